"""Browser-test fixtures: the sandbox EHR and the app under gunicorn on free ports, and Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Playwright, sync_playwright

from sandbox.ehr.config import load_config
from sandbox.run import Sandbox, free_port
from tests.conftest import skip_or_fail
from tests.e2e.browser import (
    ARTIFACTS,
    CHROMIUM,
    OpenPage,
    PageLog,
    chromium_args,
    new_profile,
    save_screenshot,
    spki_hashes,
)
from tests.e2e.stack import (
    AppServer,
    Stack,
    app_environment,
    cli_evaluations,
    prepare_database,
    register_app_client,
)

APP_CLIENT_ID = "clozapine-smartapp-e2e"
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the item, so fixtures can tell a failed test at teardown."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is absent: install Debian's chromium and chromium-driver")
    return CHROMIUM


@pytest.fixture(scope="session")
def stack(chromium, tmp_path_factory) -> Iterator[Stack]:
    """Sandbox on free ports, its chart launching the app on another free port, over HTTPS."""
    folder = tmp_path_factory.mktemp("e2e")
    app_port = free_port()
    config = load_config().replace(
        port=0,
        engine_port=0,
        tls_dir=folder / "tls",
        data_dir=folder / "sandbox",
        app_launch_url=f"https://localhost:{app_port}/launch",
        app_portal_launch_url=f"https://localhost:{app_port}/patient/launch",
        app_client_id=APP_CLIENT_ID,
        cds_services_url=f"https://localhost:{app_port}/cds-services",
    )
    with Sandbox(config) as sandbox:
        env = app_environment(folder, sandbox, APP_CLIENT_ID, app_port)
        register_app_client(sandbox, APP_CLIENT_ID, env["SMARTAPP_BASE_URL"])
        registry = prepare_database(folder, sandbox, env)
        app = AppServer(env, folder / "gunicorn.log").start(sandbox.ca_path)
        try:
            yield Stack(sandbox, app, registry)
        finally:
            app.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # The screenshots and logs of the previous run go, so the folder shows this run's.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def evaluations(stack) -> dict[str, dict[str, Any]]:
    """`smartapp evaluate` of every sandbox patient, with the registry the app imported."""
    return cli_evaluations(stack.sandbox.bundle_path, stack.registry)


@pytest.fixture
def open_browser(request, playwright, stack, tmp_path) -> Iterator[Callable[..., OpenPage]]:
    """Start Chromium on a fresh profile and open a page; on failure, screenshot it first."""
    opened: list[OpenPage] = []
    tls = stack.sandbox.config.tls_dir
    trusted = spki_hashes(tls / "ca.pem", tls / "localhost.pem", tls / "127.0.0.1.pem")

    def start(*, block_third_party_cookies: bool = False, width: int = 1280) -> OpenPage:
        profile = new_profile(
            tmp_path / f"profile-{len(opened)}", block_third_party_cookies=block_third_party_cookies
        )
        # A persistent context is the profile's own (not off-the-record), so it keeps the
        # cookie setting written above.
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=chromium_args(trusted),
            viewport={"width": width, "height": 900},
        )
        page = context.pages[0] if context.pages else context.new_page()
        log = PageLog()
        log.attach(page)
        opened.append(OpenPage(context, page, log))
        return opened[-1]

    yield start
    reports = request.node.stash.get(REPORTS, {})
    failed = any(report.failed for report in reports.values())
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        app_log = ARTIFACTS / f"{request.node.name}-failure-app.log"
        app_log.write_text(stack.app.log(tail_chars=20_000), encoding="utf-8")
    for index, item in enumerate(opened):
        try:
            if failed:
                save_screenshot(item.page, f"{request.node.name}-failure-{index}")
        finally:
            item.context.close()
