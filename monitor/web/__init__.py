"""The operator console: web pages and a JSON API over stories, alerts, sources, watchlists."""

from monitor.web.app import make_app

__all__ = ["make_app"]
