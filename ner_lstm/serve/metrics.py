"""What an operator watches, in the Prometheus text format (`prometheus-client`).

One registry per app, so several apps in one process (the tests) keep their own counts.
Paths outside the API are counted as `other`: a client sending random paths cannot
grow the number of series.
"""
from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

KNOWN_PATHS = frozenset({"/health", "/v1/model", "/v1/entities", "/metrics", "/", "/docs", "/openapi.json"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ner_lstm_requests", "HTTP requests answered, by path and status.",
                                ["path", "status"], registry=self.registry)
        self.latency = Histogram("ner_lstm_request_seconds", "Time from request to response, by path.", ["path"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_sizes = Histogram("ner_lstm_batch_sentences", "Sentences per network batch.",
                                     buckets=BATCH_BUCKETS, registry=self.registry)
        self.queue = Gauge("ner_lstm_queue_sentences", "Sentences waiting for the network.", registry=self.registry)

    def request(self, path: str, status: int, seconds: float) -> None:
        path = path if path in KNOWN_PATHS else "other"
        self.requests.labels(path, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def watch_queue(self, depth: Callable[[], float]) -> None:
        self.queue.set_function(depth)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
