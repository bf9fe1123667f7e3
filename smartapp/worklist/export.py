"""The files of a Bulk Data export: a folder of `*.ndjson`, or a manifest JSON naming them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ExportError(ValueError):
    """The export cannot be read at all (no such folder, a malformed manifest, a missing file)."""


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One NDJSON file of the export: where it is, and the name it is reported by."""

    path: Path
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class Export:
    """The resource files to evaluate and the manifest's `error` files (OperationOutcomes)."""

    files: tuple[ExportFile, ...]
    error_files: tuple[ExportFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(file.size for file in self.files)


def export_files(location: str) -> Export:
    """The export at `location`: a folder (its `*.ndjson`, by name) or a manifest file."""
    path = Path(location)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".ndjson" and p.is_file())
        if not files:
            raise ExportError(f"export folder {location} holds no *.ndjson file")
        return Export(tuple(_file(p, p.name) for p in files), ())
    if path.is_file():
        return _manifest(path)
    raise ExportError(f"export {location} is neither a folder nor a manifest file")


def _manifest(path: Path) -> Export:
    """A Bulk Data manifest: `output` (and `error`) lists of {type, url}, files beside it."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise ExportError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeError):
        raise ExportError(f"manifest {path} is not valid JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("output"), list):
        raise ExportError(f"manifest {path} has no `output` list (is it a Bulk Data manifest?)")
    errors = document.get("error", [])
    if not isinstance(errors, list):
        raise ExportError(f"manifest {path}: `error` is not a list")
    files = tuple(_listed(path, item, "output", n) for n, item in enumerate(document["output"]))
    error_files = tuple(_listed(path, item, "error", n) for n, item in enumerate(errors))
    return Export(files, error_files)


def _listed(manifest: Path, item: object, key: str, position: int) -> ExportFile:
    where = f"manifest {manifest}: {key}[{position}]"
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        raise ExportError(f"{where} has no url")
    url: str = item["url"]
    local = _local_path(manifest.parent, url)
    if not local.is_file():
        raise ExportError(
            f"{where}: file {local.name} is not beside the manifest (not downloaded?)"
        )
    return _file(local, local.name)


def _local_path(folder: Path, url: str) -> Path:
    """Where a manifest's url is on disk: a file: URL, a path, or an http(s) URL's last segment.

    A downloaded export keeps each file under the last segment of its url, beside the manifest.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        return folder / Path(segment).name
    return folder / url


def _file(path: Path, name: str) -> ExportFile:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExportError(f"cannot read export file {name}: {exc.strerror or exc}") from None
    return ExportFile(path, name, size)


def numbered_lines(file: ExportFile) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line without its end) for every line of one file, streamed."""
    try:
        stream = file.path.open("rb")
    except OSError as exc:
        raise ExportError(f"cannot read export file {file.name}: {exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            yield number, line.rstrip(b"\r\n")
