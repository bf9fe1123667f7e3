"""Shared test configuration: where the project and the read-only shared folder are."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["tests.postgres"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
