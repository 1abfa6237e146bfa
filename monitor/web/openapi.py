"""The API's OpenAPI 3.0 document: every endpoint with its parameters and response schemas.

The schemas mirror monitor/store/queries.py (the CLI's ``--json``) and monitor/web/data.py;
tests/web check the running server against this document with schemathesis.
"""

from __future__ import annotations

from typing import Any

from monitor.web.data import CURSOR_PATTERN


def _obj(**props: dict[str, Any]) -> dict[str, Any]:
    """An object whose properties are all present (a value may still be null)."""
    return {"type": "object", "properties": props, "required": sorted(props)}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
NSTR = {"type": "string", "nullable": True}
NINT = {"type": "integer", "nullable": True}
TIME = {"type": "string", "format": "date-time", "nullable": True}

_ITEM = _obj(
    id=INT,
    external_id=NSTR,
    url=NSTR,
    source=STR,
    language=NSTR,
    title=STR,
    published=TIME,
    published_estimated=BOOL,
)
_EXCERPT = _obj(before=STR, match=STR, after=STR)
_MATCH = _obj(
    item_id=INT,
    watchlist=STR,
    rule=STR,
    kind=STR,
    name=STR,
    term=STR,
    method={"type": "string", "enum": ["alias", "folded", "fuzzy", "keyword"]},
    score=NUM,
    span={**_list(INT), "minItems": 2, "maxItems": 2},
    snippet=STR,
)
_STORY_FIELDS: dict[str, dict[str, Any]] = {
    "id": INT,
    "title": STR,
    "published": TIME,
    "first_seen": TIME,
    "languages": _list(STR),
    "items": _list(_ref("Item")),
    "related": _list(INT),
    "matches": _list(_ref("Match")),
    "watchlists": _list(STR),
    "muted": BOOL,
    "merged_into": NINT,
}
_ALERT = _obj(
    id=INT,
    story_id=INT,
    watchlist=STR,
    rule=STR,
    channel=STR,
    severity=STR,
    state={
        "type": "string",
        "enum": ["recorded", "pending", "sending", "sent", "failed", "muted"],
    },
    attempts=INT,
    last_error=NSTR,
    created=TIME,
    delivered=TIME,
    next_attempt_at=TIME,
    provider_id=NSTR,
    message_key=NSTR,
)
_SOURCE = _obj(
    id=INT,
    name=STR,
    kind=STR,
    url=NSTR,
    health={"type": "string", "enum": ["ok", "failing", "dark", "disabled", "new"]},
    next_poll_at=TIME,
    last_polled_at=TIME,
    last_success_at=TIME,
    last_new_item_at=TIME,
    last_error=NSTR,
    last_error_at=TIME,
    consecutive_failures=INT,
    items=INT,
    items_per_day=_list(_obj(day={"type": "string", "format": "date"}, items=INT)),
)
_DRY_STORY = _obj(watchlist=STR, rule=STR, story_id=INT, title=STR, terms=_list(STR))
_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(error=STR),
    "Item": _ITEM,
    "Match": _MATCH,
    "Story": _obj(**_STORY_FIELDS),
    "StoryDetail": _obj(
        **{
            **_STORY_FIELDS,
            "matches": _list({"allOf": [_ref("Match"), _obj(excerpt=_EXCERPT)]}),
        },
        related_stories=_list(_obj(id=INT, title=STR, published=TIME, score=NUM, reason=STR)),
        alerts=_list(_ref("Alert")),
        decisions=_list(
            _obj(
                action={"type": "string", "enum": ["mute", "unmute", "split", "merge"]},
                story_id=INT,
                item_id=NINT,
                other_story_id=NINT,
                actor=STR,
                created=TIME,
            )
        ),
    ),
    "StoryPage": _obj(stories=_list(_ref("Story")), next=NSTR),
    "Alert": _ALERT,
    "AlertList": _obj(alerts=_list(_ref("Alert"))),
    "SourceList": _obj(sources=_list(_SOURCE)),
    "WatchlistFiles": _obj(
        location=STR,
        files=_list(_obj(path=STR, name=NSTR, valid=BOOL, problems=_list(STR))),
    ),
    "DryRun": _obj(
        valid=BOOL,
        problems=_list(STR),
        items_checked=INT,
        rules=_list(_obj(watchlist=STR, rule=STR, stories=_list(_DRY_STORY))),
        new=_list(_DRY_STORY),
        lost=_list(_DRY_STORY),
    ),
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "bad request",
        403: "CSRF token missing or wrong",
        404: "not found",
        409: "not possible in the current state",
    }
    return {str(c): _json("Error", words[c]) for c in codes}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_STORY_FILTERS = [
    _query("watchlist", STR, "only stories that matched this watchlist"),
    _query("language", STR, "only stories with a report in this language (ISO 639-1)"),
    _query(
        "source",
        {**INT, "minimum": -(2**63) + 1, "maximum": 2**63 - 1},
        "only stories with a report from this source id",
    ),
    _query("since", {"type": "string", "format": "date-time"}, "first seen at or after"),
    _query("until", {"type": "string", "format": "date-time"}, "first seen before"),
    _query("cursor", {**STR, "pattern": CURSOR_PATTERN}, "the `next` value of the previous page"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
]
_CHANGE = (
    "Changes state: send the `monitor_csrf` cookie's value as `X-CSRF-Token`, or a bearer token."
)

_PATHS: dict[str, dict[str, Any]] = {
    "/api/stories": {
        "get": {
            "summary": "Stories, newest first seen, by keyset pages",
            "parameters": _STORY_FILTERS,
            "responses": {"200": _json("StoryPage", "a page of stories"), **_errors(400)},
        }
    },
    "/api/stories/{story_id}": {
        "get": {
            "summary": "One story: timeline, matches, related stories, alerts, decisions",
            "parameters": [_path("story_id")],
            "responses": {"200": _json("StoryDetail", "the story"), **_errors(400, 404)},
        }
    },
    "/api/stories/{story_id}/mute": {
        "post": {
            "summary": "Mute or unmute a story",
            "description": _CHANGE,
            "parameters": [_path("story_id")],
            "requestBody": _body(_obj(muted=BOOL)),
            "responses": {"200": _json("StoryDetail", "the story"), **_errors(400, 403, 404, 409)},
        }
    },
    "/api/stories/{story_id}/merge": {
        "post": {
            "summary": "Fold another story into this one",
            "description": _CHANGE,
            "parameters": [_path("story_id")],
            "requestBody": _body(_obj(other=ID)),
            "responses": {
                "200": _json("StoryDetail", "the merged story"),
                **_errors(400, 403, 404, 409),
            },
        }
    },
    "/api/items/{item_id}/split": {
        "post": {
            "summary": "Move a report out of its story into a new story",
            "description": _CHANGE,
            "parameters": [_path("item_id")],
            "responses": {
                "200": _json("StoryDetail", "the new story"),
                **_errors(400, 403, 404, 409),
            },
        }
    },
    "/api/alerts": {
        "get": {
            "summary": "Alerts with their delivery state per channel",
            "parameters": [
                _query(
                    "state",
                    {"type": "string", "enum": ["recorded", "pending", "sent", "failed", "muted"]},
                    "only alerts in this state",
                )
            ],
            "responses": {"200": _json("AlertList", "alerts, oldest first"), **_errors(400)},
        }
    },
    "/api/alerts/{alert_id}/retry": {
        "post": {
            "summary": "Send a failed alert again",
            "description": _CHANGE,
            "parameters": [_path("alert_id")],
            "responses": {
                "200": _json("Alert", "the alert, pending"),
                **_errors(400, 403, 404, 409),
            },
        }
    },
    "/api/sources": {
        "get": {
            "summary": "Sources with their health and items per day",
            "responses": {"200": _json("SourceList", "sources")},
        }
    },
    "/api/watchlists": {
        "get": {
            "summary": "Watchlist files and their validation state",
            "responses": {"200": _json("WatchlistFiles", "files")},
        }
    },
    "/api/watchlists/dry-run": {
        "post": {
            "summary": "Replay stored reports against a draft watchlist; nothing is sent",
            "description": _CHANGE,
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["yaml"],
                    "properties": {
                        "yaml": STR,
                        "name": {**STR, "description": "file name; its stem names the draft"},
                        "since": {"type": "string", "format": "date-time", "nullable": True},
                    },
                }
            ),
            "responses": {"200": _json("DryRun", "what the draft would do"), **_errors(400, 403)},
        }
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "monitor console API",
            "version": "1",
            "description": "Stories, alerts, sources and watchlists; field names match "
            "`monitor stories --json` and `monitor alerts --json`.",
        },
        "paths": _PATHS,
        "components": {"schemas": _SCHEMAS},
    }
