"""The killed-worker test (issue 11): a dunning run on a real Celery worker, through Redis,
sending to the loopback SMTP server (tests/smtp.py); the worker is killed with SIGKILL in
the middle, a new one is started and the run resumed, and exactly one notice and one
email per (invoice, level) reached the server.

PostgreSQL and Redis only (CI runs it there): the worker is another process that reads
and writes the committed test database. The workers are started here, not by the shared
`celery_worker_process` fixture, because this test kills them; they take a claim of a
dead worker over after DUNNING_STALE_CLAIM_SECONDS instead of the task's time limit.
The shared worker, when an earlier test started it, is paused meanwhile: it would take
this test's tasks and wait out the claims with the default stale time.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app as celery_app
from core.models import SentEmail
from receivables import dunning
from receivables.models import DunningNotice, DunningNoticeLine, DunningRun
from tests import smtp
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("session_worker_paused"),  # its tasks are for these workers alone
]

CUSTOMERS = 100  # each with two overdue invoices: 100 notices, 200 (invoice, level) lines
STALE_CLAIM_SECONDS = 2
AS_OF = date(2026, 4, 3)  # invoices issued 1 March with 30 days to pay: 3 days overdue
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _needs_postgres_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("the killed-worker test needs PostgreSQL (CI runs it there)")
    if not django_settings.REDIS_URL:
        pytest.skip("the killed-worker test needs Redis (REDIS_URL; CI sets it)")


@contextmanager
def celery_worker(workdir: Path, name: str, smtp_server):
    """A real `celery -A config worker` in its own process group (so SIGKILL reaches the
    pool's children too), on the test database, mailing the loopback server. Yields the
    process; stops it (if still alive) on the way out."""
    pidfile, logfile = workdir / f"{name}.pid", workdir / f"{name}.log"
    env = {
        **os.environ,
        "EMAIL_URL": smtp_server.url,
        "PYTHONUNBUFFERED": "1",
        "DUNNING_STALE_CLAIM_SECONDS": str(STALE_CLAIM_SECONDS),
    }
    base, _, _ = os.environ["DATABASE_URL"].partition("?")
    env["DATABASE_URL"] = f"{base.rsplit('/', 1)[0]}/{connection.settings_dict['NAME']}"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--pool=prefork",
        "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname={name}-{os.getpid()}@%h",
        f"--pidfile={pidfile}", f"--logfile={logfile}",
    ]  # fmt: skip
    worker = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)
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
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=15)


class Gate:
    """Holds the SMTP server's answer to DATA while closed, then refuses what it held
    (451, try again): the workers are killed mid-conversation, at a known point, never
    between the server's "accepted" and their commit (see core.mail.send_once)."""

    def __init__(self, monkeypatch):
        self.open = threading.Event()
        self.open.set()
        self.held = 0
        deliver = smtp._Handler.handle_DATA
        gate = self

        async def handle_DATA(handler, server, session, envelope):
            if gate.open.is_set():
                return await deliver(handler, server, session, envelope)
            gate.held += 1
            while not gate.open.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Held by the killed-worker test: try again"

        monkeypatch.setattr(smtp._Handler, "handle_DATA", handle_DATA)

    def close(self) -> None:
        self.open.clear()


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes at once: no shutdown, no acknowledgements."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=15)


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"waited {timeout:.0f} s for {what}")


def test_a_worker_killed_mid_run_then_resumed_sends_one_notice_and_one_email_per_invoice_and_level(
    tmp_path, smtp_server, clerk, issue, monkeypatch
):
    inbox = smtp_server.inbox
    gate = Gate(monkeypatch)
    celery_app.control.purge()  # nothing left over in this Redis database from an earlier run
    for _ in range(CUSTOMERS):
        customer = CustomerFactory()
        issue("100.00", who=customer)
        issue("50.00", who=customer, on=date(2026, 2, 27))
    inbox.clear()

    with celery_worker(tmp_path, "doomed", smtp_server) as doomed:
        run = dunning.run_dunning(as_of=AS_OF, by=clerk)
        # Killed in the middle: some mail out, the run far from done, a send mid-conversation.
        wait_until(lambda: len(inbox.messages) >= CUSTOMERS // 8, 60, "the first emails")
        gate.close()
        wait_until(lambda: gate.held, 30, "a send to reach the server")
        time.sleep(0.5)  # whatever the server took before the gate closed is committed by now
        kill(doomed)
        gate.open.set()
    sent_before = len(inbox.messages)
    run.refresh_from_db()
    assert run.status == "running" and 0 < sent_before < CUSTOMERS, (run.status, sent_before)

    time.sleep(STALE_CLAIM_SECONDS + 1)  # the dead worker's claims go stale
    with celery_worker(tmp_path, "second", smtp_server):
        dunning.resume_run(run=run, by=clerk)
        wait_until(
            lambda: DunningRun.objects.filter(pk=run.pk, status="done").exists(), 300, "the resumed run to finish"
        )
        time.sleep(1)  # a duplicate, if any, would arrive now

    run.refresh_from_db()
    assert (run.notices_sent, run.notices_failed, run.progress_done, run.progress_total) == (
        CUSTOMERS,
        0,
        CUSTOMERS,
        CUSTOMERS,
    )
    assert DunningNotice.objects.filter(run=run, status="sent").count() == CUSTOMERS
    lines = Counter(DunningNoticeLine.objects.values_list("invoice_id", "level_id"))
    assert len(lines) == 2 * CUSTOMERS and set(lines.values()) == {1}
    assert SentEmail.objects.filter(key__startswith="receivables.dunning_notice:").count() == CUSTOMERS
    # On the wire: one email per customer, each listing both of its invoices once.
    received = Counter(message["X-Envelope-To"] for message in inbox.messages)
    assert len(received) == CUSTOMERS and set(received.values()) == {1}, received.most_common(3)
    numbers = Counter(
        line.split(",")[0].removeprefix("- ")
        for message in inbox.messages
        for line in message.get_body(("plain",)).get_content().splitlines()
        if line.startswith("- ")
    )
    assert len(numbers) == 2 * CUSTOMERS and set(numbers.values()) == {1}
