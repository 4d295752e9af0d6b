"""Dunning under real concurrency (PostgreSQL): the same batch delivered to several
workers at once makes one notice per customer and one line per (invoice, level), and
sends each email once; two runs started at once make one run."""

from datetime import date, timedelta

import pytest
from django.db import connection

from core.models import SentEmail
from receivables import dunning
from receivables.dunning import runs as dunning_runs
from receivables.models import DunningNotice, DunningNoticeLine, DunningRun
from tests.concurrency import run_at_once
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
AS_OF = date(2026, 4, 3)  # invoices issued 1 March with 30 days to pay: 3 days overdue


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


def test_one_batch_delivered_to_many_workers_sends_once(issue, clerk, monkeypatch):
    # The threads are the workers: nothing is handed to the broker.
    monkeypatch.setattr(dunning_runs, "_queue_send", lambda notice_id: None)
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        issue("100.00", who=customer)
        issue("50.00", who=customer, on=date(2026, 2, 25))
    run = DunningRun.objects.create(as_of=AS_OF, status="running", started_by=clerk, progress_total=len(customers))
    ids = [customer.pk for customer in customers]

    def work():
        for notice_id in dunning.make_notices(run_id=run.pk, customer_ids=ids):
            dunning.send_notice(notice_id=notice_id)

    outcomes = run_at_once(work, [()] * THREADS)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert DunningNotice.objects.filter(run=run, status="sent").count() == 5
    assert DunningNoticeLine.objects.count() == 10
    assert SentEmail.objects.filter(key__startswith="receivables.dunning_notice:").count() == 5
    run.refresh_from_db()
    assert run.status == "done" and run.notices_sent == 5 and run.progress_done == 5


def test_two_runs_started_at_once_make_one(issue, clerk, monkeypatch):
    monkeypatch.setattr(dunning_runs, "_queue_plan", lambda run_id: None)  # no broker
    issue("100.00")
    outcomes = run_at_once(lambda: dunning.run_dunning(as_of=AS_OF + timedelta(days=1), by=clerk), [()] * 4)
    runs = [o for o in outcomes if isinstance(o, DunningRun)]
    assert len(runs) == 1, outcomes
    assert all(isinstance(o, dunning.DunningConflict) for o in outcomes if not isinstance(o, DunningRun))
