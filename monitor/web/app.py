"""The console's aiohttp application: pages, JSON API, static files, safety middlewares.

``make_app`` is what `monitor serve` runs and what `monitor run --web` mounts in the daemon.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web
from sqlalchemy import Engine

from monitor.config import Settings
from monitor.web import api, pages
from monitor.web.context import ENGINE, SETTINGS, TEMPLATES
from monitor.web.security import (
    Access,
    access_middleware,
    csrf_middleware,
    headers_middleware,
)

STATIC = Path(__file__).parent / "static"


def link(url: str | None) -> str | None:
    """A feed's URL, if it is one a browser may follow: never ``javascript:`` or ``data:``."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def make_app(engine: Engine, settings: Settings, access: Access | None = None) -> web.Application:
    """The console over ``engine``; ``access`` defaults to credentials from the environment."""
    access = access if access is not None else Access.from_env()
    app = web.Application(
        middlewares=[
            headers_middleware,
            api.json_errors,
            access_middleware(access),
            csrf_middleware(access),
        ],
        client_max_size=2 * 1024 * 1024,
    )
    app[ENGINE] = engine
    app[SETTINGS] = settings
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.web", "templates"),
        autoescape=True,  # every piece of feed text is hostile
        undefined=jinja2.StrictUndefined,
    )
    app[TEMPLATES].filters["link"] = link
    app.router.add_routes(api.routes)
    app.router.add_routes(pages.routes)
    app.router.add_static("/static/", STATIC, name="static")
    return app
