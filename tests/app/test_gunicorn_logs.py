"""No handle, code or query string in any log line of the deployed process, gunicorn's own included.

gunicorn runs with config/gunicorn.conf.py (as scripts/run starts it, at debug level so every
line it can write is written), and is sent requests carrying a handle and a code: well-formed
ones, and malformed request lines, which gunicorn refuses with a warning quoting the line.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from smartapp.web.log_redaction import redact
from tests.app_helpers import ISSUER_TOML, app_settings
from tests.conftest import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
HANDLE = "hdl-SECRET-7f3a9c"
CODE = "code-SECRET-2b8e41"
STATE = "state-SECRET-9d0c55"
MALFORMED = [
    f"GET /chart?h={HANDLE} HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",
    f"GET /chart h={HANDLE} HTTP/1.1\r\nHost: localhost\r\n\r\n",
    f"GET /callback?code={CODE}&state={STATE} HTTP/9.9\r\nHost: localhost\r\n\r\n",
    f"GET /chart?h={HANDLE}\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    f"GET /chart?h={HANDLE} HTTP/1.1\r\nBad Header Line\r\n\r\n",
    f"GET /callback?code={CODE} HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


COMMAND = [
    str(VENV_BIN / "gunicorn"),
    *("-c", "config/gunicorn.conf.py", "--no-control-socket", "--log-level", "debug"),
    "smartapp.wsgi:app",
]


def gunicorn_env(folder: Path, port: int, issuer_toml: str = ISSUER_TOML, **overrides: str):
    """What scripts/run exports (no SMARTAPP_* of the caller's leaks in), on this port."""
    settings = app_settings(folder, issuer_toml, **overrides)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTAPP_")}
    env.update({f"SMARTAPP_{name}": value for name, value in settings.items()})
    env.update({"SMARTAPP_BIND": f"127.0.0.1:{port}", "SMARTAPP_WORKERS": "1"})
    env["SMARTAPP_LOG_LEVEL"] = "DEBUG"
    return env


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[tuple[str, Path]]:
    """gunicorn with the shipped config over plain HTTP on a free port; its origin and log."""
    port = free_port()
    env = gunicorn_env(tmp_path, port)
    log_path = tmp_path / "gunicorn.log"

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            COMMAND, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                if requests.get(f"{origin}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        yield origin, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def send_raw(port: int, request_text: str) -> bytes:
    """Write a request as given (gunicorn parses it, not a client library) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request_text.encode("latin-1"))
        answer = b""
        try:
            while chunk := connection.recv(4096):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def test_gunicorn_logs_carry_no_handle_code_or_query_string(gunicorn) -> None:
    origin, log_path = gunicorn
    port = int(origin.rsplit(":", 1)[1])
    with requests.Session() as http:
        assert http.get(f"{origin}/chart", params={"h": HANDLE}, timeout=5).status_code == 401
        callback = http.get(f"{origin}/callback", params={"code": CODE, "state": STATE}, timeout=5)
        assert callback.status_code == 400
    refused = [send_raw(port, line) for line in MALFORMED]
    assert all(answer.startswith(b"HTTP/1.1 400") for answer in refused), refused
    time.sleep(0.5)  # let the worker flush its last lines
    log = log_path.read_text(errors="replace")
    assert "Invalid request from ip=" in log  # gunicorn's warning was written, redacted
    assert '"GET /chart" 401' in log and '"GET /callback" 400' in log  # the access lines
    for secret in (HANDLE, CODE, STATE, "?h=", "?code="):
        assert secret not in log, f"{secret} in the log:\n{log}"
    # The app's lines and gunicorn's access lines name the same requests.
    app_lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    served = set(re.findall(r" request_id=([0-9a-f]{16})$", log, re.M))
    assert len(served) >= 3  # /healthz (once or more), /chart, /callback
    assert {line["request_id"] for line in app_lines} == served


def test_gunicorn_passes_an_8_kb_authorization_code_to_the_app(gunicorn) -> None:
    origin, log_path = gunicorn
    code = ("AbC-_.~9" * 1024)[:8192]
    with requests.Session() as http:
        answer = http.get(f"{origin}/callback", params={"code": code, "state": STATE}, timeout=5)
    # The app's own page (the state is unknown to it), not gunicorn's "line too large" refusal.
    assert answer.status_code == 400
    assert 'data-testid="error-message"' in answer.text
    assert code not in log_path.read_text(errors="replace")


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Invalid HTTP request line: 'GET /chart?h=abc HTTP/1.1 x'", "'GET /chart?[redacted] HTTP"),
        ("Invalid HTTP request line: 'GET /chart h=abc&code=def'", "h=[redacted]&code=[redacted]"),
        ("Error handling request /chart%3Fh=abc", "/chart%3F[redacted]"),
        ("Are you sure? path=/x", "Are you sure? path=/x"),
    ],
)
def test_redact_takes_out_query_strings_and_sensitive_parameters(line, kept) -> None:
    assert kept in redact(line)
    assert "abc" not in redact(line) and "def" not in redact(line)


@pytest.mark.parametrize(
    ("issuer_extra", "overrides", "named"),
    [
        ("", {"TOKEN_KEY": "not-a-fernet-key"}, "SMARTAPP_TOKEN_KEY is not a Fernet key"),
        ('tls_ca_file = "missing-ca.pem"\n', {}, "'tls_ca_file' names "),
    ],
)
def test_gunicorn_stops_at_start_up_naming_the_bad_setting(
    tmp_path, issuer_extra, overrides, named
) -> None:
    env = gunicorn_env(tmp_path, free_port(), ISSUER_TOML + issuer_extra, **overrides)
    done = subprocess.run(
        COMMAND, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "smartapp cannot start: " in done.stderr and named in done.stderr
    assert "Traceback" not in done.stderr
