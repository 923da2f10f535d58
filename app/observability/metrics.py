"""The Prometheus metrics every worker keeps (summed over the workers at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("help_requests_total", "HTTP requests answered.", ["route", "status"])


LATENCY = Histogram(
    "help_request_duration_seconds",
    "Time to answer a request, in seconds.",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


CACHE = Counter("help_cache_requests_total", "Page cache look-ups.", ["layer", "result"])


PAGES = Gauge("help_pages_loaded", "Help pages in the docs folder.", multiprocess_mode="mostrecent")


DOCUMENT_ERRORS = Counter(
    "help_document_errors_total",
    "Pages that failed to load or render (the others, and their last good versions, are served).",
    ["stage"],
)


SHARED_CACHE_REJECTED = Counter(
    "help_shared_cache_rejected_total", "Values read from the shared cache (Redis) that failed their signature check."
)
