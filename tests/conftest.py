"""Shared test configuration: where the project and the read-only shared folder are."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings

pytest_plugins = ["tests.postgres"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"

# Property tests judge behaviour, not speed: a busy CI host must not fail them on a timer, and
# under CI they replay the same examples every run so a failure can be reproduced.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
