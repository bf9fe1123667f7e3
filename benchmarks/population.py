"""Population benchmark: `smartapp evaluate --ndjson` over 1,000 and 10,000 patients.

Each run is a separate process timed from outside, its peak memory (max RSS) read from the
kernel's accounting of that child, so the ratio shows whether memory stays flat.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.synthetic import AS_OF, patient_bundle

ANCS_PER_PATIENT = 26  # half a year of weekly results: enough history, files of sane size


def write_population(path: Path, patients: int) -> None:
    """One Bundle per line; patients repeat a few shapes with distinct ids."""
    shapes = [patient_bundle(seed, ANCS_PER_PATIENT) for seed in range(50)]
    with path.open("w") as out:
        for index in range(patients):
            text = json.dumps(shapes[index % len(shapes)])
            out.write(text.replace("bench-", f"pop{index}-") + "\n")


def run_population(path: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `smartapp evaluate --ndjson` child process."""
    smartapp = Path(sys.executable).with_name("smartapp")
    command = [str(smartapp), "evaluate", "--ndjson", str(path), "--as-of", AS_OF.isoformat()]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as child:
        _, status, usage = os_wait4(child)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"smartapp evaluate --ndjson exited {status}")
    return elapsed, usage.ru_maxrss


def os_wait4(child: subprocess.Popen[bytes]) -> tuple[int, int, resource.struct_rusage]:
    """Wait for the child and return its own resource usage (not the sum of all children)."""
    import os

    pid, raw_status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(raw_status)
    return pid, child.returncode, usage
