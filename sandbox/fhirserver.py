"""Start and stop the sandbox FHIR server (Node, sandbox/fhir-server) as a child process.

    server = start_fhir_server(0, load_file=Path("cohort.json"))
    ...  # server.base_url == "http://127.0.0.1:<port>/fhir"
    server.stop()

The server prints one line on stdout when it takes requests; this module waits for that line,
then checks GET /healthz. Port 0 lets the server pick a free port (read back from that line).
"""

from __future__ import annotations

import re
import subprocess
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

FHIR_SERVER_DIR = Path(__file__).resolve().parent / "fhir-server"
NODE = FHIR_SERVER_DIR / "node_modules" / ".bin" / "node"
SERVER_SCRIPT = FHIR_SERVER_DIR / "server.mjs"
PUBLIC_BASE_HEADER = "X-Forwarded-Base"

_READY = re.compile(
    r"^fhir-server ready on (?P<base>http://\S+/fhir) \((?P<count>\d+) resources, (?P<ms>\d+) ms\)$"
)

__all__ = [
    "FHIR_SERVER_DIR",
    "NODE",
    "PUBLIC_BASE_HEADER",
    "FhirServer",
    "FhirServerError",
    "is_installed",
    "start_fhir_server",
]


class FhirServerError(RuntimeError):
    """The FHIR server could not be started (not installed, exited, or never became ready)."""


def is_installed() -> bool:
    """True when `npm ci` has run in sandbox/fhir-server (the bundled Node 22 is there)."""
    return (
        NODE.exists() and (FHIR_SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir()
    )


@dataclass
class FhirServer:
    """A running server: its process, local base URL, and what its ready line reported."""

    process: subprocess.Popen[str]
    base_url: str
    port: int
    resources_loaded: int
    startup_ms: int
    _closed: bool = field(default=False, repr=False)

    def stop(self, timeout_s: float = 10.0) -> int:
        """Sends SIGTERM (SIGKILL after `timeout_s`) and returns the server's exit code."""
        if not self._closed:
            self._closed = True
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            if self.process.stdout:
                self.process.stdout.close()
        return self.process.wait()

    def __enter__(self) -> FhirServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _command(
    port: int, load_file: Path | None, host: str, public_base: str | None, validate: bool
) -> list[str]:
    command = [str(NODE), str(SERVER_SCRIPT), "--host", host, "--port", str(port)]
    if load_file is not None:
        command += ["--load", str(load_file)]
    if public_base is not None:
        command += ["--public-base", public_base]
    if not validate:
        command.append("--no-validate")
    return command


def _read_first_line(stream: IO[str], timeout_s: float) -> str | None:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0] if lines else None


def _check_health(base_url: str, timeout_s: float) -> None:
    health_url = base_url.removesuffix("/fhir") + "/healthz"
    # The URL is the server's own loopback http:// address from its ready line.
    with urllib.request.urlopen(health_url, timeout=timeout_s) as response:  # noqa: S310
        if response.status != 200:
            raise FhirServerError(f"{health_url} answered {response.status}")


def start_fhir_server(
    port: int = 0,
    load_file: Path | None = None,
    *,
    host: str = "127.0.0.1",
    public_base: str | None = None,
    validate: bool = True,
    timeout_s: float = 60.0,
    stderr: IO[str] | int | None = None,
) -> FhirServer:
    """Starts the server on host:port (0: a free port) loading `load_file` (a transaction or
    collection Bundle), and returns once /healthz answers. `public_base` is the base URL written
    into links and Location headers when a request carries no X-Forwarded-Base header.
    The server's stderr goes to `stderr` (default: this process's stderr)."""
    if not is_installed():
        raise FhirServerError(f"FHIR server not installed: run `npm ci` in {FHIR_SERVER_DIR}")
    command = _command(port, load_file, host, public_base, validate)
    # Fixed program (the bundled node) and arguments; no shell.
    process = subprocess.Popen(  # noqa: S603
        command,
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=FHIR_SERVER_DIR,
    )
    if process.stdout is None:  # never: Popen was given stdout=PIPE
        raise FhirServerError("FHIR server started without a stdout pipe")
    line = _read_first_line(process.stdout, timeout_s)
    match = _READY.match(line.strip()) if line else None
    if match is None:
        process.kill()
        process.wait()
        raise FhirServerError(
            f"FHIR server did not start (exit code {process.returncode}): {line or 'no output'}"
        )
    server = FhirServer(
        process=process,
        base_url=match["base"],
        port=int(match["base"].rsplit(":", 1)[1].split("/")[0]),
        resources_loaded=int(match["count"]),
        startup_ms=int(match["ms"]),
    )
    try:
        _check_health(server.base_url, timeout_s)
    except Exception:
        server.stop()
        raise
    return server
