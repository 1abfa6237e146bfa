"""Safe by default: access control off loopback, CSRF on every change, strict headers.

- **Access**: on 127.0.0.1 the console is open, like any local tool. Any other bind needs a
  bearer token (``MONITOR_WEB_TOKEN``) or basic auth (``MONITOR_WEB_USER`` and
  ``MONITOR_WEB_PASSWORD``), and then every request must carry one of them.
- **CSRF**: a double-submit token. The ``monitor_csrf`` cookie (SameSite=Strict) must match a
  form field or the ``X-CSRF-Token`` header on every POST. A request that carries a bearer
  token is exempt: a browser never adds that header by itself.
- **Headers**: a CSP that allows only our own scripts and styles, and the usual hardening.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSRF_COOKIE = "monitor_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_KEY = web.RequestKey("csrf", str)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass(frozen=True, slots=True)
class Access:
    """Credentials the console accepts; none configured means loopback only."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Access:
        return cls(
            env.get("MONITOR_WEB_TOKEN") or None,
            env.get("MONITOR_WEB_USER") or None,
            env.get("MONITOR_WEB_PASSWORD") or None,
        )

    @property
    def required(self) -> bool:
        return bool(self.token or (self.user and self.password))

    def bearer_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return bool(
            self.token and scheme.lower() == "bearer" and hmac.compare_digest(value, self.token)
        )

    def basic_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if not (self.user and self.password) or scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.user) & hmac.compare_digest(password, self.password)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, access: Access) -> None:
    """Refuse to listen beyond this machine without credentials."""
    if not is_loopback(host) and not access.required:
        raise ValueError(
            f"refusing to listen on {host} without credentials: set MONITOR_WEB_TOKEN, "
            "or MONITOR_WEB_USER and MONITOR_WEB_PASSWORD"
        )


def access_middleware(
    access: Access,
) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if access.required:
            header = request.headers.get("Authorization", "")
            if not (access.bearer_ok(header) or access.basic_ok(header)):
                raise web.HTTPUnauthorized(
                    text="authentication required",
                    headers={"WWW-Authenticate": 'Basic realm="monitor", charset="UTF-8"'},
                )
        return await handler(request)

    return middleware


def csrf_token(request: web.Request) -> str:
    """This browser's CSRF token (set as a cookie by the CSRF middleware if new)."""
    return request[CSRF_KEY]


def csrf_middleware(
    access: Access,
) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        request[CSRF_KEY] = cookie or secrets.token_urlsafe(32)
        if request.method not in SAFE_METHODS and not access.bearer_ok(
            request.headers.get("Authorization", "")
        ):
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                sent = str((await request.post()).get(CSRF_FIELD, ""))
            if not cookie or not hmac.compare_digest(sent, cookie):
                raise web.HTTPForbidden(text="CSRF token missing or wrong: reload the page")
        response = await handler(request)
        if not cookie:
            response.set_cookie(
                CSRF_COOKIE, request[CSRF_KEY], httponly=True, samesite="Strict", path="/"
            )
        return response

    return middleware


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every response, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = web.Response(status=500, text="internal error: see the server log")
    response.headers.update(SECURITY_HEADERS)
    return response
