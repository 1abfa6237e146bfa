"""Links from feed content never reach private addresses, after DNS and after redirects."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from monitor.fetch.guard import AddressPolicy
from monitor.fetch.http import FetchError, Limits, fetch, make_session


class FixedResolver(AbstractResolver):
    """Answers every name with one address, as a hostile DNS server could."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=self.address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[str]]]:
    hits: list[str] = []

    async def page(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/to-private":
            raise web.HTTPFound("http://10.1.2.3/admin")
        if request.path == "/to-name":
            raise web.HTTPFound(f"http://internal.example:{request.url.port}/secret")
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server, hits
    await test_server.close()


def test_policy_blocks_private_ranges_unless_allowed() -> None:
    policy = AddressPolicy()
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "0.0.0.0",
    ):
        assert not policy.allowed(address), address
    assert policy.allowed("93.184.216.34")
    assert AddressPolicy(["127.0.0.1/32"]).allowed("127.0.0.1")


async def test_loopback_blocked_without_the_allowance(server: tuple[TestServer, list[str]]) -> None:
    test_server, hits = server
    async with make_session(Limits(), policy=AddressPolicy()) as session:
        with pytest.raises(FetchError, match="blocked"):
            await fetch(session, str(test_server.make_url("/page")), policy=AddressPolicy())
    assert hits == []


async def test_allowance_lets_loopback_through_but_not_a_redirect_to_private(
    server: tuple[TestServer, list[str]],
) -> None:
    test_server, hits = server
    policy = AddressPolicy(["127.0.0.1/32"])
    async with make_session(Limits(), policy=policy) as session:
        ok = await fetch(session, str(test_server.make_url("/page")), policy=policy)
        assert ok.body == b"hello"
        with pytest.raises(FetchError, match=r"blocked: 10\.1\.2\.3"):
            await fetch(session, str(test_server.make_url("/to-private")), policy=policy)
    assert hits == ["/page", "/to-private"]


async def test_a_name_resolving_to_a_private_address_is_blocked(
    server: tuple[TestServer, list[str]],
) -> None:
    test_server, hits = server
    policy = AddressPolicy(["127.0.0.1/32"])
    url = f"http://news.example:{test_server.port}/page"
    async with make_session(Limits(), policy=policy, resolver=FixedResolver("10.0.0.7")) as session:
        with pytest.raises(FetchError, match="resolves to a private or local address"):
            await fetch(session, url, policy=policy)
    # the same name answering the allowed address goes through: the resolver is what is checked
    async with make_session(
        Limits(), policy=policy, resolver=FixedResolver("127.0.0.1")
    ) as session:
        assert (await fetch(session, url, policy=policy)).body == b"hello"
    # without the allowance, the redirect's name resolving to loopback is blocked after the hop
    strict = AddressPolicy()
    async with make_session(
        Limits(), policy=strict, resolver=FixedResolver("127.0.0.1")
    ) as session:
        with pytest.raises(FetchError, match="blocked"):
            await fetch(session, url, policy=strict)
    assert hits == ["/page"]


async def test_redirect_hop_to_a_name_is_resolved_and_checked(
    server: tuple[TestServer, list[str]],
) -> None:
    test_server, hits = server

    class Split(FixedResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            self.address = "127.0.0.1" if host == "news.example" else "192.168.0.9"
            return await super().resolve(host, port, family)

    policy = AddressPolicy(["127.0.0.1/32"])
    async with make_session(Limits(), policy=policy, resolver=Split("")) as session:
        with pytest.raises(FetchError, match=r"internal\.example resolves to a private"):
            await fetch(session, f"http://news.example:{test_server.port}/to-name", policy=policy)
    assert hits == ["/to-name"]
