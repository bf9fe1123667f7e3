"""Worklist benchmark: `smartapp worklist` against `smartapp evaluate --ndjson`, and its memory.

Throughput: one export of 10,000 patients and the same patients as one Bundle per line; each
command runs twice, interleaved, and the faster run of each is compared (the host's speed swings
between minutes). Memory: the worklist's peak RSS (the child's own, from the kernel) over exports
of 5,000 and 50,000 patients.

.venv/bin/python -m benchmarks.worklist
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bulk_export import write_export
from benchmarks.population import os_wait4
from benchmarks.synthetic import AS_OF

THROUGHPUT_PATIENTS = 10_000
MEMORY_PATIENTS = (5_000, 50_000)
TIME_TARGET_RATIO = 1.2
MEMORY_TARGET_RATIO = 1.2


@dataclass(frozen=True, slots=True)
class Figures:
    """What one benchmark run measured."""

    evaluate_s: float
    worklist_s: float
    peak_kib: dict[int, int]

    @property
    def time_ratio(self) -> float:
        return self.worklist_s / self.evaluate_s

    @property
    def memory_ratio(self) -> float:
        small, large = (self.peak_kib[n] for n in MEMORY_PATIENTS)
        return large / small


def _timed(arguments: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `smartapp` child process."""
    smartapp = Path(sys.executable).with_name("smartapp")
    command = [str(smartapp), *arguments, "--as-of", AS_OF.isoformat()]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
        _, status, usage = os_wait4(child)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"smartapp {arguments[0]} exited {status}")
    return elapsed, usage.ru_maxrss


def measure(folder: Path) -> Figures:
    """Both figures, measured now; the exports are written under `folder`."""
    export = folder / "export-10000"
    bundles = folder / "bundles-10000.ndjson"
    manifest = write_export(export, THROUGHPUT_PATIENTS, bundles)
    config = ["--config", str(export / "organisation.toml")]
    evaluate_runs, worklist_runs = [], []
    for _ in range(2):
        evaluate_runs.append(_timed(["evaluate", "--ndjson", str(bundles), *config])[0])
        worklist_runs.append(_timed(["worklist", str(manifest), *config])[0])
    bundles.unlink()
    peaks = {}
    for patients in MEMORY_PATIENTS:
        path = folder / f"export-{patients}"
        write_export(path, patients)
        _, peaks[patients] = _timed(
            ["worklist", str(path), "--config", str(path / "organisation.toml")]
        )
    return Figures(min(evaluate_runs), min(worklist_runs), peaks)


def report(figures: Figures) -> str:
    small, large = MEMORY_PATIENTS
    return (
        f"worklist: {THROUGHPUT_PATIENTS:,} patients {figures.worklist_s:.1f} s, evaluate --ndjson"
        f" on their Bundles {figures.evaluate_s:.1f} s  ratio {figures.time_ratio:.2f} (target at"
        f" most {TIME_TARGET_RATIO}); peak {figures.peak_kib[small] / 1024:.0f} MiB for"
        f" {small:,}, {figures.peak_kib[large] / 1024:.0f} MiB for {large:,}  ratio"
        f" {figures.memory_ratio:.2f} (target at most {MEMORY_TARGET_RATIO})"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="worklist-bench-") as folder:
        print(report(measure(Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
