"""The JSON API under /api/, described by /api/openapi.json (monitor/web/openapi.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session

from monitor.store.queries import alert_json, alerts_json
from monitor.story import decisions
from monitor.watchlist.loader import WatchlistError, load_watchlists
from monitor.web import data, openapi
from monitor.web.context import in_session, settings_of
from monitor.web.dryrun import dry_run
from monitor.web.security import Handler

routes = web.RouteTableDef()
MAX_ID = 2**63 - 1  # the largest id a database column holds
ALERT_STATES = ("recorded", "pending", "sent", "failed", "muted")


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _Body(BaseModel):
    model_config = ConfigDict(strict=True)


class MuteBody(_Body):
    muted: bool


class MergeBody(_Body):
    other: int = Field(ge=1, le=MAX_ID)


class DryRunBody(_Body):
    yaml: str
    name: str = "draft.yaml"
    since: str | None = None

    @field_validator("since")
    @classmethod
    def _rfc3339(cls, value: str | None) -> str | None:
        if value is not None:
            data.parse_time(value, strict=True)
        return value


async def body(request: web.Request, model: type[_Body]) -> Any:
    try:
        return model.model_validate(json.loads(await request.text()))
    except (ValueError, ValidationError) as exc:
        raise web.HTTPBadRequest(text=f"bad request body: {exc}") from None


def story_filter(query: Mapping[str, str], strict: bool = True) -> data.StoryFilter:
    """The stories filters from query parameters; raises data.BadRequest.

    The API is ``strict`` (a parameter given is a parameter checked); the page's form sends
    empty fields for "any", so it passes only the filled ones.
    """
    f = data.StoryFilter(watchlist=query.get("watchlist"), language=query.get("language"))
    try:
        if "source" in query:
            f.source = int(query["source"])
        if "limit" in query:
            f.limit = int(query["limit"])
    except ValueError:
        raise data.BadRequest("source and limit are whole numbers") from None
    if not 1 <= f.limit <= 200:
        raise data.BadRequest("limit is between 1 and 200")
    if not -MAX_ID <= (f.source or 0) <= MAX_ID:
        raise data.BadRequest("no such source")
    f.since = data.parse_time(query["since"], strict) if "since" in query else None
    f.until = data.parse_time(query["until"], strict) if "until" in query else None
    f.after = data.parse_cursor(query["cursor"]) if "cursor" in query else None
    return f


def path_id(request: web.Request, name: str) -> int:
    """An id from the path; anything that cannot be one is simply not found."""
    value = request.match_info[name]
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise web.HTTPNotFound(reason=f"no such {name.removesuffix('_id')}")
    return int(value)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api/, errors are JSON too (aiohttp's own 404 and 405 included)."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(
            {"error": exc.text if exc.text and exc.text != exc.reason else exc.reason},
            status=exc.status,
            headers={k: v for k, v in exc.headers.items() if k in ("Allow", "WWW-Authenticate")},
        )


@routes.get("/api/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


@routes.get("/api/stories")
async def stories(request: web.Request) -> web.Response:
    try:
        f = story_filter(request.query)
    except data.BadRequest as exc:
        return error(400, str(exc))
    rows, cursor = await in_session(request, lambda s: data.list_stories(s, f))
    return web.json_response({"stories": rows, "next": cursor})


async def _story(request: web.Request, story_id: int) -> web.Response:
    found = await in_session(request, lambda s: data.story_detail(s, story_id))
    return web.json_response(found) if found else error(404, f"no story {story_id}")


@routes.get(r"/api/stories/{story_id}")
async def story(request: web.Request) -> web.Response:
    return await _story(request, path_id(request, "story_id"))


async def _decide(request: web.Request, decide: Any) -> web.Response:
    """Run a decision; the answer is the story it leaves, as GET /api/stories/{id} has it."""

    def work(session: Session) -> int:
        story = decide(session)
        assert story.id is not None
        return int(story.id)

    try:
        story_id = await in_session(request, work)
    except decisions.NotFound as exc:
        return error(404, str(exc))
    except decisions.DecisionError as exc:
        return error(409, str(exc))
    return await _story(request, story_id)


@routes.post(r"/api/stories/{story_id}/mute")
async def mute(request: web.Request) -> web.Response:
    story_id, wanted = path_id(request, "story_id"), await body(request, MuteBody)
    return await _decide(request, lambda s: decisions.mute(s, story_id, wanted.muted, "api"))


@routes.post(r"/api/stories/{story_id}/merge")
async def merge(request: web.Request) -> web.Response:
    story_id, wanted = path_id(request, "story_id"), await body(request, MergeBody)
    return await _decide(request, lambda s: decisions.merge(s, story_id, wanted.other, "api"))


@routes.post(r"/api/items/{item_id}/split")
async def split(request: web.Request) -> web.Response:
    item_id = path_id(request, "item_id")
    return await _decide(request, lambda s: decisions.split(s, item_id, "api"))


@routes.get("/api/alerts")
async def alerts(request: web.Request) -> web.Response:
    state = request.query.get("state")
    if state is not None and state not in ALERT_STATES:
        return error(400, f"state is one of {', '.join(ALERT_STATES)}")
    rows = await in_session(request, lambda s: alerts_json(s, state))
    return web.json_response({"alerts": rows})


@routes.post(r"/api/alerts/{alert_id}/retry")
async def retry(request: web.Request) -> web.Response:
    alert_id = path_id(request, "alert_id")

    def work(session: Session) -> dict[str, Any] | None:
        alert = data.retry_alert(session, alert_id)
        return alert_json(alert) if alert else None

    try:
        found = await in_session(request, work)
    except data.Conflict as exc:
        return error(409, str(exc))
    return web.json_response(found) if found else error(404, f"no alert {alert_id}")


@routes.get("/api/sources")
async def sources(request: web.Request) -> web.Response:
    return web.json_response({"sources": await in_session(request, data.sources_json)})


@routes.get("/api/watchlists")
async def watchlists(request: web.Request) -> web.Response:
    return web.json_response(data.watchlist_files_json(settings_of(request).watchlists))


@routes.post("/api/watchlists/dry-run")
async def watchlists_dry_run(request: web.Request) -> web.Response:
    wanted = await body(request, DryRunBody)
    since = data.parse_time(wanted.since) if wanted.since is not None else None
    result = await in_session(
        request, lambda s: dry_run(s, wanted.yaml, wanted.name, live_watchlists(request), since)
    )
    return web.json_response(result.to_json())


def live_watchlists(request: web.Request) -> list[Any]:
    """The watchlists in force; a broken folder compares the draft against nothing."""
    try:
        return load_watchlists(settings_of(request).watchlists)
    except WatchlistError:
        return []
