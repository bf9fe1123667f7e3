"""Structured request logs with a request id; never tokens, query strings or patient data.

Every line logged while a request is served carries its `request_id` (the id the error page
shows and `X-Request-Id` echoes), the FHIR client's lines from the shared thread pool included
(services.ContextThreadPool hands the request's context to its threads). An exception is logged
with its type and the frames it passed through, never its message, which may quote a request
value or patient data.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import traceback
from contextvars import ContextVar
from types import TracebackType

from flask import Flask, Response, g, request

from smartapp.web.log_redaction import RedactingFilter

LOGGER = logging.getLogger("smartapp.request")
REQUEST_ID: ContextVar[str | None] = ContextVar("smartapp_request_id", default=None)
_MAX_FRAMES = 40

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message and the `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": REQUEST_ID.get(),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info and record.exc_info[0] is not None:
            exc_info: ExcInfo = record.exc_info
            document["error"] = exc_info[0].__name__
            document["traceback"] = traceback_frames(exc_info[1])
        return json.dumps(document, default=str)


def traceback_frames(error: BaseException) -> list[str]:
    """Where an exception (and those it came from) passed: `file:line in function: code`.

    The exceptions' messages are left out: they may hold a request value or patient data.
    """
    frames: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(frames) < _MAX_FRAMES:
        seen.add(id(current))
        if frames:
            frames.append(f"from {type(current).__name__}")
        for frame in traceback.extract_tb(current.__traceback__):
            frames.append(f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line or ''}")
        current = current.__cause__ or current.__context__
    return frames[:_MAX_FRAMES]


# The app's loggers, and the FHIR client's (a package of its own, which logs method, resource
# type, status and timing of each call, never its URL).
LOGGERS = ("smartapp", "fhir_client")


def _handler() -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    return handler


def configure_logging(level: str) -> None:
    """Send the app's and the FHIR client's loggers to stderr as JSON lines, and the warnings
    of every other library (urllib3, Authlib, ...) through the same redacting handler."""
    handler = _handler()
    for name in LOGGERS:
        root = logging.getLogger(name)
        root.handlers[:] = [handler]
        root.setLevel(level)
        root.propagate = False
    others = logging.getLogger()
    for old in [h for h in others.handlers if getattr(h, "_smartapp", False)]:
        others.removeHandler(old)
    library_handler = _handler()
    library_handler.setLevel(logging.WARNING)
    library_handler._smartapp = True  # type: ignore[attr-defined]
    others.addHandler(library_handler)


def init_request_log(app: Flask) -> None:
    """Give each request an id (echoed in X-Request-Id) and log method, path, status, time."""

    @app.before_request
    def _start() -> None:
        g.request_id = secrets.token_hex(8)
        g.request_id_token = REQUEST_ID.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        elapsed_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        LOGGER.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": elapsed_ms,
                }
            },
        )
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                REQUEST_ID.reset(token)
            except ValueError:  # torn down in another context than it started in
                REQUEST_ID.set(None)
