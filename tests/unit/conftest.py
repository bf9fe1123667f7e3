"""Fixtures of the launch tests: the fake EHR answering for the test, and an HTTP session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.unit.test_launch_fake_ehr import FakeEhr, fake_ehr


@pytest.fixture
def ehr() -> Iterator[FakeEhr]:
    """The working fake EHR of test_launch_fake_ehr; a test breaks one thing on it."""
    with fake_ehr() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """The HTTP session the launch client is given, closed after the test."""
    with requests.Session() as session:
        yield session
