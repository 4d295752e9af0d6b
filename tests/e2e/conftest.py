"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without a `chromium` on PATH every test here is skipped, saying why; CI installs it.
Screenshots of key steps and of every failure go to var/screenshots/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls of
# factories and of live_server's teardown would otherwise raise SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "var" / "screenshots"
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password


def _is_e2e(item) -> bool:
    return HERE in Path(str(item.fspath)).resolve().parents


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium); browser tests skipped")
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def playwright(_migrated_rows, playwright):
    """pytest-playwright's own fixture, started only once the migrated rows were
    serialized (tests/conftest.py): its event loop gives this thread new connections."""
    return playwright


@pytest.fixture
def e2e_db(live_server):
    """What every browser test stands on: a live server over a committed database
    (tests/conftest.py puts the migrated rows back around it)."""
    return live_server


@pytest.fixture
def console_errors(page):
    """Errors the browser logged (console and uncaught exceptions) while the test ran."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


@pytest.fixture(autouse=True)
def snap(page, request):
    """snap("step") saves a screenshot; a failing test gets one automatically."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"\W+", "-", request.node.name).strip("-")

    def take(step: str, show=None) -> Path:
        # What the person sees: the viewport, scrolled to `show` (a locator) if given.
        if show is not None:
            show.scroll_into_view_if_needed()
        path = SCREENSHOTS / f"{test}--{step}.png"
        page.screenshot(path=str(path))
        return path

    yield take
    if getattr(request.node, "e2e_failed", False):
        take("FAILED")


@pytest.fixture
def sign_in(page, e2e_db):
    """Sign in through the real login page, as a person would."""

    def sign_in_as(user):
        page.goto(f"{e2e_db.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)

    return sign_in_as
