"""The address guard: links taken from feed content are attacker-controlled.

A feed can point us at ``http://169.254.169.254/`` or at a name that resolves to
``10.0.0.5``. The guard checks the address actually connected to: the resolver drops
forbidden addresses (so every redirect hop is checked too, after DNS), and IP literals,
which aiohttp never resolves, are checked per hop by ``check_url``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(OSError):
    """The target resolves only to addresses the operator has not allowed."""


class AddressPolicy:
    """Public addresses pass; loopback, private, link-local, multicast and reserved do not,
    unless inside a network the operator allows."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow: list[Network] = [ipaddress.ip_network(n, strict=False) for n in allow]

    def allowed(self, address: str) -> bool:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allow):
            return True
        return not (
            ip.is_loopback
            or ip.is_private
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_unspecified
            or ip.is_reserved
        )

    def check_url(self, url: str) -> None:
        """Refuse a URL whose host is a forbidden IP literal (names are checked on resolve)."""
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return
        if not self.allowed(host):
            raise BlockedAddress(f"{host} is a private or local address")


class GuardedResolver(AbstractResolver):
    """Resolve with ``base`` and keep only the addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, base: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.base = base or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.base.resolve(host, port, family)
        kept = [r for r in results if self.policy.allowed(r["host"])]
        if not kept:
            addresses = ", ".join(sorted({r["host"] for r in results}))
            raise BlockedAddress(f"{host} resolves to a private or local address ({addresses})")
        return kept

    async def close(self) -> None:
        await self.base.close()
