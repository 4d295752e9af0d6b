"""Actors and shared fixtures. Each actor is a user holding one Concord role."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP
from accounts.services import create_api_token
from config.celery import app as celery_app
from tests.factories import CustomerFactory, UserFactory

# The loopback SMTP server (smtp_server, smtp_inbox) every app's mail tests use.
pytest_plugins = ["tests.smtp"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _empty_static_root(tmp_path_factory):
    """Tests never read a collected STATIC_ROOT. WhiteNoise indexes every file under it
    each time a test client builds the middleware; after `collectstatic` that made the
    suite several times slower. Pages under test find static files through the finders."""
    from django.test import override_settings

    with override_settings(STATIC_ROOT=str(tmp_path_factory.mktemp("static_root"))):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache. Cached facts (a user's permissions, a list's
    summary) are keyed on ids and counters that the test database's rollback reuses.
    On Redis only Django's cache keys go: Celery's broker may share the database."""
    from django.core.cache import cache

    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        cache.clear()
        return
    redis = client(write=True)
    keys = list(redis.scan_iter(match=cache.make_key("*"), count=1000))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", first_name="Rita", last_name="Rep", role=SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="rep2", first_name="Otto", last_name="Other", role=SALES_REP)


@pytest.fixture
def sales_manager(db):
    return UserFactory(username="salesmanager", first_name="Sam", last_name="Manager", role=SALES_MANAGER)


@pytest.fixture
def clerk(db):
    return UserFactory(username="clerk", first_name="Clara", last_name="Clerk", role=FINANCE_CLERK)


@pytest.fixture
def finance_manager(db):
    return UserFactory(username="financemanager", first_name="Fiona", last_name="Finance", role=FINANCE_MANAGER)


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", first_name="Ada", last_name="Admin", role=ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def outsider(db):
    """Signed in, but holding no role."""
    return UserFactory(username="outsider")


@pytest.fixture
def actors(rep, other_rep, sales_manager, clerk, finance_manager, admin_user, outsider):
    return {
        "rep": rep,
        "other_rep": other_rep,
        "sales_manager": sales_manager,
        "clerk": clerk,
        "finance_manager": finance_manager,
        "admin": admin_user,
        "outsider": outsider,
    }


@pytest.fixture
def signed_in(client, actors):
    """signed_in("clerk") → the test client, signed in as that actor."""

    def sign_in(actor):
        client.force_login(actors[actor])
        return client

    return sign_in


@pytest.fixture
def customer(rep):
    """A customer owned by `rep`."""
    return CustomerFactory(owner=rep, name="Acme Industries GmbH")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client():
    """APIClient authenticated with a fresh token: token_client(user, scope="write")."""

    def make(user, scope="write"):
        _, key = create_api_token(user=user, name="test", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture(autouse=True)
def _tasks_run_eagerly(request):
    """Tasks run in-process in tests, even when REDIS_URL is set, so a test sees
    their effects at once. Tests marked `worker` talk to a real worker instead."""
    eager = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    if not eager:
        # This process is not a worker: waiting on a result is allowed here, whatever ran before.
        from celery._state import _set_task_join_will_block

        _set_task_join_will_block(False)
    yield
    celery_app.conf.task_always_eager = previous


_SESSION_WORKER = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def celery_worker_process(request, tmp_path_factory, smtp_server, django_db_setup, django_db_blocker):
    """A real `celery -A config worker` in a subprocess, talking to Redis, reading and
    writing the test database (a test that hands it records commits them: use
    `django_db(transaction=True)`), and sending its mail to the loopback SMTP server
    (tests/smtp.py). Stopped before the test database is dropped.

    Yields that server's inbox. Skips (with the reason) when no REDIS_URL is
    configured; CI sets one, so there it always runs. It lives until the session ends:
    a test that starts workers of its own takes `session_worker_paused`.
    """
    if not django_settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the real-worker tests need Redis (CI sets it)")
    workdir = tmp_path_factory.mktemp("celery")
    pidfile, logfile = workdir / "worker.pid", workdir / "worker.log"
    hostname = f"test-{os.getpid()}@concord-tests"
    env = {**os.environ, "EMAIL_URL": smtp_server.url, "PYTHONUNBUFFERED": "1"}
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        from django.db import connection

        with django_db_blocker.unblock():
            test_database = connection.settings_dict["NAME"]  # test_<name>, made by django_db_setup
        base, _, _ = os.environ["DATABASE_URL"].partition("?")
        env["DATABASE_URL"] = f"{base.rsplit('/', 1)[0]}/{test_database}"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--concurrency=1",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        f"--hostname={hostname}",
        f"--pidfile={pidfile}",
        f"--logfile={logfile}",
    ]
    worker = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    request.config.stash[_SESSION_WORKER] = hostname
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"celery worker exited early:\n{logfile.read_text() if logfile.exists() else ''}")
            if logfile.exists() and "ready." in logfile.read_text():
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"celery worker not ready in 30 s:\n{logfile.read_text() if logfile.exists() else ''}")
        yield smtp_server.inbox
    finally:
        del request.config.stash[_SESSION_WORKER]
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture
def session_worker_paused(request):
    """The session's shared worker, if an earlier test started it, takes no task from
    the queue during this test: one that runs workers of its own (and kills them) must
    know which worker ran what. Celery's remote control tells it to stop consuming and,
    afterwards, to start again."""
    hostname = request.config.stash.get(_SESSION_WORKER, None)
    if hostname is None:
        yield
        return
    queue = celery_app.conf.task_default_queue
    replies = celery_app.control.cancel_consumer(queue, destination=[hostname], reply=True, timeout=10)
    assert replies, f"the session worker {hostname} did not answer the request to pause"
    try:
        yield
    finally:
        celery_app.control.add_consumer(queue, destination=[hostname], reply=True, timeout=10)


# --- The rows the migrations created (roles, permissions) -------------------------
# A transactional test (live_server, browser tests, transaction=True) runs against
# a committed database and flushes every table afterwards, the roles and permissions
# of the data migrations included. So the migrated rows are serialized once, before
# any test runs (and before Playwright's event loop hands this thread new connection
# objects), and put back after every such test for whatever test runs next, and
# before one if they are missing anyway.
_MIGRATED_ROWS = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def _migrated_rows(request, django_db_setup, django_db_blocker):
    connection = connections[DEFAULT_DB_ALIAS]
    rows = getattr(connection, "_test_serialized_contents", None)
    if rows is None:
        with django_db_blocker.unblock():
            rows = connection.creation.serialize_db_to_string()
    request.config.stash[_MIGRATED_ROWS] = rows
    return rows


def _restore_migrated_rows(rows: str) -> None:
    # Flushing without post_migrate leaves no content types or permissions with new
    # ids behind to clash with the serialized ones.
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    connection = connections[DEFAULT_DB_ALIAS]
    connection.creation.deserialize_db_from_string(rows)
    # The rows came back with their ids; the id sequences (reset by the flush) move past
    # them, or the next stage or tax rate a test creates would take id 1 again.
    from django.apps import apps
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return "live_server" in names or "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))


@pytest.fixture(autouse=True)
def _migrated_rows_present(request):
    if not _flushes_database(request.node):
        return
    rows = request.getfixturevalue("_migrated_rows")
    request.getfixturevalue("transactional_db")
    if not Group.objects.exists():
        _restore_migrated_rows(rows)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    rows = item.config.stash.get(_MIGRATED_ROWS, None)
    if rows is not None and nextitem is not None and _flushes_database(item):
        with item.config.stash[blocking_manager_key].unblock():
            _restore_migrated_rows(rows)
    return result
