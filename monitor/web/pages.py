"""The console's HTML pages: stories, story, alerts, sources, watchlists.

Forms post back and redirect (post/redirect/get), so a reload never repeats a decision.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlmodel import Session

from monitor.store.queries import alerts_json
from monitor.story import decisions
from monitor.watchlist.loader import WatchlistError, load_watchlists
from monitor.web import data
from monitor.web.api import ALERT_STATES, live_watchlists, path_id, story_filter
from monitor.web.context import in_session, render, settings_of
from monitor.web.dryrun import dry_run

routes = web.RouteTableDef()


def not_found(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", status=404, title="Not found", message=message)


def bad_request(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", status=400, title="Bad request", message=message)


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/stories")


@routes.get("/stories")
async def stories(request: web.Request) -> web.Response:
    try:
        f = story_filter({k: v for k, v in request.query.items() if v}, strict=False)
    except data.BadRequest as exc:
        return bad_request(request, str(exc))

    def work(session: Session) -> tuple[Any, ...]:
        rows, cursor = data.list_stories(session, f)
        return rows, cursor, data.source_choices(session)

    rows, cursor, sources = await in_session(request, work)
    try:
        watchlists = [w.name for w in load_watchlists(settings_of(request).watchlists)]
    except WatchlistError:
        watchlists = []
    following = {k: v for k, v in request.query.items() if k != "cursor"}
    return render(
        request,
        "stories.html",
        stories=rows,
        next_query={**following, "cursor": cursor} if cursor else None,
        filters=request.query,
        watchlists=watchlists,
        sources=sources,
    )


@routes.get(r"/stories/{story_id:\d+}")
async def story(request: web.Request) -> web.Response:
    story_id = path_id(request, "story_id")
    found = await in_session(request, lambda s: data.story_detail(s, story_id))
    if found is None:
        return not_found(request, f"There is no story {story_id}.")
    if found["merged_into"] is not None:
        raise web.HTTPFound(f"/stories/{found['merged_into']}")
    return render(request, "story.html", story=found, highlights=highlights(found))


def highlights(story: dict[str, Any]) -> list[dict[str, Any]]:
    """Per actor or keyword: how it was found, and each matched span with the rules it fed."""
    items = {item["id"]: item for item in story["items"]}
    spans: dict[tuple[Any, ...], dict[str, Any]] = {}
    for m in story["matches"]:
        key = (m["name"], m["item_id"], *m["span"])
        if key not in spans:
            item = items.get(m["item_id"], {})
            how = m["method"] if m["method"] != "fuzzy" else f"fuzzy {m['score']:.2f}"
            spans[key] = {
                **m,
                "how": how,
                "language": item.get("language"),
                "source": item.get("source", ""),
                "rules": [],
            }
        spans[key]["rules"].append(f"{m['watchlist']}/{m['rule']}")
    names: dict[str, dict[str, Any]] = {}
    for span in spans.values():
        entry = names.setdefault(
            span["name"], {"name": span["name"], "kind": span["kind"], "forms": {}, "spans": []}
        )
        entry["forms"].setdefault(f"{span['term']} ({span['how']})", None)
        entry["spans"].append(span)
    return list(names.values())


async def _decide(request: web.Request, decide: Any) -> web.Response:
    def work(session: Session) -> int:
        story = decide(session)
        return int(story.id)

    try:
        story_id = await in_session(request, work)
    except decisions.DecisionError as exc:
        return bad_request(request, str(exc))
    raise web.HTTPSeeOther(f"/stories/{story_id}")


def _int_field(form: MultiDictProxy[Any], name: str) -> int:
    try:
        return int(str(form.get(name, "")).strip())
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: a story id, a whole number") from None


@routes.post(r"/stories/{story_id:\d+}/mute")
async def mute(request: web.Request) -> web.Response:
    story_id, form = path_id(request, "story_id"), await request.post()
    muted = form.get("muted") == "1"
    return await _decide(request, lambda s: decisions.mute(s, story_id, muted, "web"))


@routes.post(r"/stories/{story_id:\d+}/merge")
async def merge(request: web.Request) -> web.Response:
    story_id = path_id(request, "story_id")
    other = _int_field(await request.post(), "other")
    return await _decide(request, lambda s: decisions.merge(s, story_id, other, "web"))


@routes.post(r"/items/{item_id:\d+}/split")
async def split(request: web.Request) -> web.Response:
    item_id = path_id(request, "item_id")
    return await _decide(request, lambda s: decisions.split(s, item_id, "web"))


@routes.get("/alerts")
async def alerts(request: web.Request) -> web.Response:
    state = request.query.get("state") or None
    if state is not None and state not in ALERT_STATES:
        return bad_request(request, f"state is one of {', '.join(ALERT_STATES)}")
    rows = await in_session(request, lambda s: alerts_json(s, state))
    return render(request, "alerts.html", alerts=rows, state=state, states=ALERT_STATES)


@routes.post(r"/alerts/{alert_id:\d+}/retry")
async def retry(request: web.Request) -> web.Response:
    alert_id = path_id(request, "alert_id")
    try:
        found = await in_session(request, lambda s: data.retry_alert(s, alert_id))
    except data.Conflict as exc:
        return bad_request(request, str(exc))
    if found is None:
        return not_found(request, f"There is no alert {alert_id}.")
    raise web.HTTPSeeOther("/alerts")


@routes.get("/sources")
async def sources(request: web.Request) -> web.Response:
    rows = await in_session(request, data.sources_json)
    return render(request, "sources.html", sources=rows)


@routes.get("/watchlists")
async def watchlists(request: web.Request) -> web.Response:
    checked = data.watchlist_files_json(settings_of(request).watchlists)
    return render(request, "watchlists.html", checked=checked, result=None, draft="", since="")


@routes.post("/watchlists/dry-run")
async def watchlists_dry_run(request: web.Request) -> web.Response:
    """A draft pasted into the form, or uploaded as a file (the upload wins)."""
    form = await request.post()
    upload, name = form.get("file"), str(form.get("name") or "draft.yaml")
    if isinstance(upload, web.FileField) and upload.filename:
        text, name = upload.file.read().decode("utf-8", errors="replace"), upload.filename
    else:
        text = str(form.get("yaml", ""))
    since_text = str(form.get("since", "")).strip()
    try:
        since = data.parse_time(since_text) if since_text else None
    except data.BadRequest as exc:
        return bad_request(request, str(exc))
    live = live_watchlists(request)
    result = await in_session(request, lambda s: dry_run(s, text, name, live, since))
    checked = data.watchlist_files_json(settings_of(request).watchlists)
    return render(
        request,
        "watchlists.html",
        checked=checked,
        result=result.to_json(),
        draft=text,
        since=since_text,
    )
