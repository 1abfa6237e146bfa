"""The API against its OpenAPI document: schemathesis drives the running `monitor serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from monitor.web.openapi import document
from tests.web.conftest import monitor


def csrf_cookie(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/sources") as response:
        cookie = response.headers["Set-Cookie"]
    return str(cookie.split(";")[0].split("=", 1)[1])


def test_api_conforms_to_its_openapi_document(serve: Callable[..., str], tmp_path: Path) -> None:
    url = serve()  # its own database: schemathesis posts mutes, merges and splits
    token = csrf_cookie(url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{url}/api/openapi.json",
            "--url",
            url,
            "-H",
            f"X-CSRF-Token: {token}",
            "-H",
            f"Cookie: monitor_csrf={token}",
            "--max-examples",
            "25",
            "--seed",
            "8",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_every_endpoint_declares_its_response_schemas() -> None:
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                assert schema, f"{method.upper()} {path} {status}"


def test_api_and_cli_share_field_names(server: str, seeded_db: Path) -> None:
    """`monitor stories --json` and `monitor alerts --json` print what the API serves."""
    db = f"sqlite:///{seeded_db}"
    cli_story = json.loads(monitor("stories", "--json", "--database-url", db).stdout)[0]
    cli_alert = json.loads(monitor("alerts", "--json", "--database-url", db).stdout)[0]
    with urllib.request.urlopen(f"{server}/api/stories") as response:
        api_story = json.load(response)["stories"][0]
    with urllib.request.urlopen(f"{server}/api/alerts") as response:
        api_alert = json.load(response)["alerts"][0]
    schemas = document()["components"]["schemas"]
    assert set(cli_story) == set(api_story) == set(schemas["Story"]["properties"])
    assert set(cli_story["items"][0]) == set(api_story["items"][0])
    assert set(cli_alert) == set(api_alert) == set(schemas["Alert"]["properties"])
