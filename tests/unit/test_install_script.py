"""scripts/install reinstalls Python and npm packages only when their definition files changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _offline_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH and PYTHONPATH where npm and `python -m pip` only record that they were called."""
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho "npm $*" >> {calls}\nexit 1\n')
    npm.chmod(0o755)
    pip_dir = tmp_path / "shadow" / "pip"
    pip_dir.mkdir(parents=True)
    (pip_dir / "__init__.py").write_text("")
    (pip_dir / "__main__.py").write_text(
        f"import sys\nopen({str(calls)!r}, 'a').write('pip ' + ' '.join(sys.argv[1:]))\n"
        "sys.exit(1)\n"
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(tmp_path / "shadow"),
    }
    return env, calls


def test_a_second_install_with_nothing_changed_runs_neither_pip_nor_npm(tmp_path: Path) -> None:
    # The first run brings the stamps up to date (quick when they already are).
    subprocess.run([str(ROOT / "scripts/install")], check=True, capture_output=True)
    env, calls = _offline_env(tmp_path)
    second = subprocess.run(
        [str(ROOT / "scripts/install")], env=env, capture_output=True, text=True, check=False
    )
    assert second.returncode == 0, second.stderr
    assert not calls.exists(), calls.read_text()


def test_the_python_stamp_is_the_hash_of_pyproject() -> None:
    subprocess.run([str(ROOT / "scripts/install")], check=True, capture_output=True)
    expected = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    assert (ROOT / ".venv/.install-stamp").read_text().strip() == expected


def test_a_changed_lock_file_installs_again(tmp_path: Path) -> None:
    subprocess.run([str(ROOT / "scripts/install")], check=True, capture_output=True)
    stamp = ROOT / "browser-libs/node_modules/.install-stamp"
    stamp.write_text("a lock file that has since changed\n")
    env, calls = _offline_env(tmp_path)
    changed = subprocess.run(
        [str(ROOT / "scripts/install")], env=env, capture_output=True, text=True, check=False
    )
    assert changed.returncode != 0  # the recording npm refuses, so the install stops
    assert "npm ci" in calls.read_text()
    subprocess.run([str(ROOT / "scripts/install")], check=True, capture_output=True)
    assert stamp.read_text() != "a lock file that has since changed\n"
