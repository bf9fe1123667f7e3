"""Serve the EHR front over HTTPS on loopback in a background thread (werkzeug, threaded).

Request lines are logged without their query strings, which can carry launch values, codes or
patient ids.
"""

from __future__ import annotations

import logging
import ssl
import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("sandbox.ehr")


class _QuietHandler(WSGIRequestHandler):
    """Logs method, path (no query) and status at debug level only."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "").split("?", 1)[0]
        log.debug("%s %s %s", getattr(self, "command", "-"), path, code)

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        log.debug("request error: %s", format % args)


class EhrServer:
    """The EHR front listening on `host:port` (port 0 picks a free one) until `stop()`."""

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext) -> None:
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-ehr", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
