"""Prometheus metrics of the daemon, on their own registry (several daemons in one test run)."""

from __future__ import annotations

from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "monitor_polls",
            "Source polls by result (ok, not_modified, error).",
            ["result"],
            registry=r,
        )
        self.errors = Counter(
            "monitor_poll_errors", "Failed polls by reason class.", ["reason"], registry=r
        )
        self.items = Counter("monitor_items", "New items stored.", registry=r)
        self.stories = Counter("monitor_stories", "New stories.", registry=r)
        self.alerts = Counter("monitor_alerts", "Alerts written to the outbox.", registry=r)
        self.corrections = Counter(
            "monitor_corrections", "Items corrected by their source.", registry=r
        )
        self.notices = Counter("monitor_operator_notices", "Operator alerts raised.", registry=r)
        self.latency = Histogram(
            "monitor_fetch_seconds",
            "Feed fetch latency, including 304s.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.in_flight = Gauge("monitor_polls_in_flight", "Polls running now.", registry=r)

    def serve(self, port: int, host: str) -> tuple[WSGIServer, Thread]:
        """Serve /metrics from a background thread; shut the server down on stop."""
        return start_http_server(port, host, registry=self.registry)


def reason_class(error: str) -> str:
    """A low-cardinality label for an error message."""
    for prefix, label in (
        ("HTTP ", "http"),
        ("timed out", "timeout"),
        ("blocked", "blocked"),
        ("response larger", "too_large"),
        ("redirect", "redirects"),
        ("more than", "redirects"),
        ("cannot connect", "connect"),
    ):
        if error.startswith(prefix):
            return label
    return "parse"
