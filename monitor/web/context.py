"""What every handler shares: the app's keys, database access in a thread, page rendering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import jinja2
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.config import Settings
from monitor.web.security import csrf_token

ENGINE = web.AppKey("engine", Engine)
SETTINGS = web.AppKey("settings", Settings)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
T = TypeVar("T")


async def in_session(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run blocking database work in a thread, so one slow query never stalls the server."""
    engine = request.app[ENGINE]

    def run() -> T:
        with Session(engine) as session:
            return work(session)

    return await asyncio.to_thread(run)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    html = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(csrf_token=csrf_token(request), path=request.path, **context)
    )
    return web.Response(text=html, content_type="text/html", status=status)
