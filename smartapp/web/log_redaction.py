"""A logging filter that takes query strings, handles, codes and tokens out of every log line.

The app's own lines never carry them; this catches the lines others write: gunicorn quotes the
whole request line when it refuses a malformed request (`GET /chart?h=... HTTP/1.1`) and the
request URI when a request fails, and a library may quote a URL. Installed on the app's log
handlers (request_log.py) and on gunicorn's loggers (config/gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# A query string: from "?" (or its escape %3F) to the next space or quote (a request line, a
# URL in a message).
_QUERY = re.compile(r"(\?|%3F)[^\s\"'<>]+", re.IGNORECASE)
# A sensitive parameter outside a query string (a malformed request line, a form body).
_SECRET_PARAMETER = re.compile(
    r"(?<![\w-])(h|code|state|launch|access_token|refresh_token|id_token|code_verifier"
    r"|client_secret|client_assertion)=[^\s&\"'<>]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with every query string and sensitive `name=value` replaced by a marker."""
    without_query = _QUERY.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}={REDACTED}", without_query)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, structured fields and traceback text through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {key: _redacted(value) for key, value in fields.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_gunicorn_logs() -> None:
    """Put the filter on gunicorn's error and access loggers (their handlers are gunicorn's)."""
    for name in ("gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
