"""Structured request logs with a request id; never tokens, query strings or patient data."""

from __future__ import annotations

import json
import logging
import secrets
import time

from flask import Flask, Response, g, request

LOGGER = logging.getLogger("smartapp.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            document["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "error"
        return json.dumps(document, default=str)


# The app's loggers, and the FHIR client's (a package of its own, which logs method, resource
# type, status and timing of each call, never its URL).
LOGGERS = ("smartapp", "fhir_client")


def configure_logging(level: str) -> None:
    """Send the app's and the FHIR client's loggers to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in LOGGERS:
        root = logging.getLogger(name)
        root.handlers[:] = [handler]
        root.setLevel(level)
        root.propagate = False


def init_request_log(app: Flask) -> None:
    """Give each request an id (echoed in X-Request-Id) and log method, path, status, time."""

    @app.before_request
    def _start() -> None:
        g.request_id = secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        elapsed_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        LOGGER.info(
            "request",
            extra={
                "fields": {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": elapsed_ms,
                }
            },
        )
        return response
