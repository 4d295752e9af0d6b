"""Recurring billing (billing.plans): plans, the periods they bill (month ends
included), the billing run (invoices made, issued, sent, failures recorded, never
twice for one period), the Celery task and the daily beat run."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing import plans, tasks
from billing.models import BillingPlan, BillingRun, Invoice
from collaboration.models import FeedItem
from crm.models import PaymentTerms
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SUPPORT = {"description": "Support 24/7", "quantity": "1", "unit_price": "100.00"}


@pytest.fixture
def plan_lines(vat):
    return [
        {**SUPPORT, "tax_rate": vat},
        {"description": "Hosting", "quantity": "2", "unit_price": "49.99", "discount_percent": "10", "tax_rate": vat},
    ]


@pytest.fixture
def make_plan(finance_manager, customer, plan_lines):
    def make(customer=customer, lines=None, **data):
        data = {"name": "Support 24/7", "interval": "monthly", "start_date": date(2026, 1, 1), **data}
        return plans.create_plan(by=finance_manager, customer=customer, data=data, lines=lines or plan_lines)

    return make


def plan_of(interval, start, end=None):
    """An unsaved plan, for the period arithmetic."""
    return BillingPlan(interval=interval, start_date=start, end_date=end, next_invoice_date=start)


# --- periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "start", "as_of", "expected"),
    [
        (
            "monthly",
            date(2026, 1, 31),
            date(2026, 5, 31),
            [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)],
        ),
        ("monthly", date(2028, 1, 30), date(2028, 3, 30), [date(2028, 1, 30), date(2028, 2, 29), date(2028, 3, 30)]),
        (
            "quarterly",
            date(2025, 11, 30),
            date(2026, 8, 30),
            [date(2025, 11, 30), date(2026, 2, 28), date(2026, 5, 30), date(2026, 8, 30)],
        ),
        (
            "yearly",
            date(2024, 2, 29),
            date(2028, 3, 1),
            [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)],
        ),
        ("monthly", date(2026, 12, 15), date(2027, 2, 14), [date(2026, 12, 15), date(2027, 1, 15)]),
        ("monthly", date(2026, 3, 1), date(2026, 2, 28), []),
    ],
)
def test_periods_are_calendar_months_from_the_start_keeping_its_day_where_the_month_has_it(
    interval, start, as_of, expected
):
    assert plans.periods_due(plan_of(interval, start), as_of) == expected


def test_no_period_starts_after_the_end_date():
    plan = plan_of("monthly", date(2026, 1, 1), end=date(2026, 3, 15))
    assert plans.periods_due(plan, date(2026, 12, 31)) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    plan.end_date = date(2026, 3, 1)  # a period starting on the end date is billed
    assert plans.periods_due(plan, date(2026, 12, 31))[-1] == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("interval", "start", "label"),
    [
        ("monthly", date(2026, 3, 1), "March 2026"),
        ("quarterly", date(2026, 1, 1), "January – March 2026"),
        ("quarterly", date(2026, 11, 1), "November 2026 – January 2027"),
        ("yearly", date(2026, 1, 1), "2026"),
        ("yearly", date(2026, 7, 1), "July 2026 – June 2027"),
        ("monthly", date(2026, 3, 15), "15 March – 14 April 2026"),
        ("monthly", date(2026, 12, 15), "15 December 2026 – 14 January 2027"),
    ],
)
def test_each_period_has_a_name_people_read(interval, start, label):
    assert plans.period_label(plan_of(interval, start), start) == label


# --- plans -------------------------------------------------------------------------------


def test_a_plan_starts_billing_on_its_start_date_in_the_customers_currency(make_plan, customer):
    plan = make_plan(start_date=date(2026, 2, 15))
    assert plan.next_invoice_date == date(2026, 2, 15)
    assert plan.currency == customer.currency and plan.is_active and plan.auto_issue and not plan.auto_send
    assert [(line.description, line.amount) for line in plan.lines.all()] == [
        ("Support 24/7", Decimal("100.00")),
        ("Hosting", Decimal("89.98")),  # 2 × 49.99 less 10 %
    ]
    assert plans.plan_amount(plan) == Decimal("189.98")
    assert FeedItem.objects.filter(verb="billing_plan.created").exists()


@pytest.mark.parametrize(
    ("data", "lines", "field"),
    [
        ({"end_date": date(2025, 12, 31)}, None, "end_date"),
        ({"auto_issue": False, "auto_send": True}, None, "auto_send"),
        ({}, [{"description": "x", "quantity": "-1", "unit_price": "1"}], "lines"),
        ({}, [{"description": "x", "quantity": "9" * 40, "unit_price": "1"}], "lines"),
        ({}, [{"description": "x", "quantity": "1", "unit_price": "1e309"}], "lines"),
        ({"interval": "weekly"}, None, "interval"),
        ({"start_date": date(1066, 10, 14)}, None, "start_date"),
        ({"name": ""}, None, "name"),
        ({"next_invoice_date": date(2026, 5, 1)}, None, "next_invoice_date"),
    ],
)
def test_bad_plans_are_refused_with_the_field_named(make_plan, data, lines, field):
    with pytest.raises(ValidationError) as refused:
        make_plan(lines=lines, **data)
    assert field in refused.value.message_dict
    assert not BillingPlan.objects.exists()


def test_a_plan_without_lines_is_refused(finance_manager, customer):
    with pytest.raises(ValidationError) as refused:
        plans.create_plan(
            by=finance_manager,
            customer=customer,
            data={"name": "Empty", "interval": "monthly", "start_date": date(2026, 1, 1)},
            lines=[],
        )
    assert "lines" in refused.value.message_dict
    assert not BillingPlan.objects.exists()


@pytest.mark.parametrize("actor", ["clerk", "rep", "sales_manager", "outsider"])
def test_only_finance_managers_keep_plans(actors, customer, actor, make_plan):
    with pytest.raises(PermissionDenied):
        plans.create_plan(
            by=actors[actor],
            customer=customer,
            data={"name": "x", "interval": "monthly", "start_date": date(2026, 1, 1)},
            lines=[SUPPORT],
        )
    plan = make_plan()
    with pytest.raises(PermissionDenied):
        plans.stop_plan(plan=plan, by=actors[actor])


def test_the_start_date_moves_the_next_invoice_only_while_nothing_was_invoiced(make_plan, finance_manager, clerk):
    plan = make_plan()
    plan = plans.update_plan(plan=plan, by=finance_manager, data={"start_date": date(2026, 2, 1)})
    assert plan.next_invoice_date == date(2026, 2, 1) and plan.version == 2
    plans.run_billing(as_of=date(2026, 2, 10), by=clerk)
    with pytest.raises(ValidationError, match="start date stays"):
        plans.update_plan(plan=plan, by=finance_manager, data={"start_date": date(2026, 1, 1)})
    plan = plans.update_plan(plan=plan, by=finance_manager, data={"interval": "quarterly", "name": "Support"})
    assert plan.next_invoice_date == date(2026, 3, 1)  # what was billed stays billed


def test_a_stale_version_is_refused(make_plan, finance_manager):
    plan = make_plan()
    plans.update_plan(plan=plan, by=finance_manager, data={"name": "Renamed"}, expected_version=1)
    with pytest.raises(plans.StaleVersion):
        plans.update_plan(plan=plan, by=finance_manager, data={"name": "Again"}, expected_version=1)


def test_lines_are_replaced_all_or_none(make_plan, finance_manager):
    plan = make_plan()
    with pytest.raises(ValidationError):
        plans.update_plan(
            plan=plan, by=finance_manager, data={}, lines=[SUPPORT, {"description": "bad", "quantity": "x"}]
        )
    assert plan.lines.count() == 2
    plans.update_plan(plan=plan, by=finance_manager, data={}, lines=[SUPPORT])
    assert plans.plan_amount(plan) == Decimal("100.00")


# --- the run -----------------------------------------------------------------------------


def test_a_run_invoices_every_period_due_and_moves_the_plan_on(make_plan, clerk, customer, vat):
    customer.payment_terms, customer.payment_days = PaymentTerms.END_OF_MONTH, 15
    customer.save()
    plan = make_plan()
    make_plan(name="Later", start_date=date(2026, 6, 1))  # not due yet

    run = plans.run_billing(as_of=date(2026, 3, 10), by=clerk)

    invoices = list(Invoice.objects.filter(billing_plan=plan).order_by("period_start"))
    assert [invoice.period_start for invoice in invoices] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    march = invoices[-1]
    assert [line.description for line in march.lines.all()] == [
        "Support 24/7 — March 2026",
        "Hosting — March 2026",
    ]
    assert (march.payment_terms, march.payment_days) == (PaymentTerms.END_OF_MONTH, 15)
    assert (march.subtotal, march.tax_total, march.total) == (Decimal("189.98"), Decimal("36.10"), Decimal("226.08"))
    assert all(invoice.status == Invoice.Status.ISSUED and invoice.number for invoice in invoices)
    assert march.issue_date == timezone.localdate() and march.created_by == clerk == march.issued_by
    plan.refresh_from_db()
    assert plan.next_invoice_date == date(2026, 4, 1)
    assert (run.status, run.plans_total, run.plans_done, run.percent_done) == (BillingRun.Status.DONE, 1, 1, 100)
    assert (run.invoices_created, run.invoices_issued, run.invoices_sent, run.failures) == (3, 3, 0, [])
    assert run.finished_at is not None and run.started_by == clerk
    assert FeedItem.objects.filter(verb="invoice.recurring").count() == 3


def test_without_auto_issue_the_run_leaves_drafts(make_plan, clerk):
    plan = make_plan(auto_issue=False)
    run = plans.run_billing(as_of=date(2026, 1, 1), by=clerk)
    (invoice,) = plan.invoices.all()
    assert invoice.is_draft and invoice.number is None
    assert (run.invoices_created, run.invoices_issued) == (1, 0)


def test_running_twice_makes_nothing_new(make_plan, clerk):
    make_plan()
    first = plans.run_billing(as_of=date(2026, 3, 10), by=clerk)
    numbers = set(Invoice.objects.values_list("number", flat=True))
    second = plans.run_billing(as_of=date(2026, 3, 10), by=clerk)
    assert first.invoices_created == 3
    assert (second.plans_total, second.invoices_created, second.failures) == (0, 0, [])
    assert set(Invoice.objects.values_list("number", flat=True)) == numbers


def test_a_period_invoiced_already_is_never_invoiced_again_even_if_the_plan_says_so(make_plan, clerk):
    """The unique (plan, period start) holds even when a plan's date was moved back."""
    plan = make_plan()
    plans.run_billing(as_of=date(2026, 2, 10), by=clerk)
    BillingPlan.objects.filter(pk=plan.pk).update(next_invoice_date=date(2026, 1, 1))
    run = plans.run_billing(as_of=date(2026, 3, 10), by=clerk)
    assert run.invoices_created == 1 and run.failures == []  # only March
    assert Invoice.objects.filter(billing_plan=plan).count() == 3
    plan.refresh_from_db()
    assert plan.next_invoice_date == date(2026, 4, 1)


def test_stopped_and_ended_plans_are_not_billed(make_plan, finance_manager, clerk):
    stopped = make_plan(name="Stopped")
    plans.stop_plan(plan=stopped, by=finance_manager)
    ended = make_plan(name="Ended", end_date=date(2026, 1, 31))
    run = plans.run_billing(as_of=date(2026, 3, 10), by=clerk)
    assert run.plans_total == 1 and run.invoices_created == 1
    assert not stopped.invoices.exists() and ended.invoices.count() == 1
    assert FeedItem.objects.filter(verb="billing_plan.stopped").exists()
    # Activated again: the periods it missed are billed by the next run.
    plans.activate_plan(plan=stopped, by=finance_manager)
    assert plans.run_billing(as_of=date(2026, 3, 10), by=clerk).invoices_created == 3


def test_failures_are_recorded_per_plan_and_the_run_goes_on(make_plan, clerk, rep):
    lacking = CustomerFactory(owner=rep, name="No Tax Id AG", tax_id="")
    failing = make_plan(customer=lacking, name="Failing")
    fine = make_plan(name="Fine")

    run = plans.run_billing(as_of=date(2026, 2, 10), by=clerk)

    assert (run.status, run.plans_total, run.plans_done) == (BillingRun.Status.DONE, 2, 2)
    assert run.invoices_created == 2 and fine.invoices.count() == 2
    (failure,) = run.failures
    assert failure["plan"] == failing.pk and failure["plan_name"] == "Failing"
    assert failure["customer_name"] == "No Tax Id AG" and failure["period"] == "2026-01-01"
    assert "cannot be invoiced yet" in failure["message"] and "tax" in failure["message"].lower()
    # Nothing half-written: no draft, no number, the plan still owes January.
    assert not failing.invoices.exists()
    failing.refresh_from_db()
    assert failing.next_invoice_date == date(2026, 1, 1)
    # Fixed, the next run bills it.
    lacking.tax_id = "DE111222333"
    lacking.save()
    again = plans.run_billing(as_of=date(2026, 2, 10), by=clerk)
    assert again.invoices_created == 2 and again.failures == []


def test_auto_send_emails_each_invoice_and_an_unsendable_one_stays_issued(make_plan, clerk, rep):
    sent = make_plan(name="Sent", auto_send=True)
    nobody = CustomerFactory(owner=rep, name="No Mail KG", email="")
    unsent = make_plan(customer=nobody, name="Unsent", auto_send=True)

    run = plans.run_billing(as_of=date(2026, 1, 5), by=clerk)

    (invoice,) = sent.invoices.all()
    assert invoice.sent_at is not None and invoice.sent_to == sent.customer.email
    (issued,) = unsent.invoices.all()
    assert issued.status == Invoice.Status.ISSUED and issued.sent_at is None
    assert (run.invoices_created, run.invoices_issued, run.invoices_sent) == (2, 2, 1)
    (failure,) = run.failures
    assert failure["invoice"] == issued.pk and failure["invoice_number"] == issued.number
    assert failure["message"].startswith(f"Issued {issued.number} but not sent:")


def test_auto_send_mails_the_pdf(make_plan, clerk, smtp_inbox, django_capture_on_commit_callbacks):
    make_plan(auto_send=True)
    with django_capture_on_commit_callbacks(execute=True):
        plans.run_billing(as_of=date(2026, 1, 5), by=clerk)
    (message,) = smtp_inbox.wait_for(1)
    invoice = Invoice.objects.get()
    assert message["To"] == invoice.sent_to and invoice.number in message["Subject"]
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{invoice.number}.pdf"]


def test_a_run_nobody_started_acts_as_the_plans_creator(make_plan, finance_manager):
    plan = make_plan()
    run = plans.run_billing(as_of=date(2026, 1, 5))
    (invoice,) = plan.invoices.all()
    assert invoice.created_by == finance_manager == invoice.issued_by
    assert run.started_by is None and run.invoices_issued == 1


def test_only_finance_runs_billing(rep):
    with pytest.raises(PermissionDenied):
        plans.run_billing(as_of=date(2026, 1, 5), by=rep)
    with pytest.raises(PermissionDenied):
        plans.start_billing_run(by=rep)
    assert not BillingRun.objects.exists()


# --- starting runs and the task ----------------------------------------------------------


def test_a_started_run_is_run_by_the_task_after_commit(make_plan, clerk, django_capture_on_commit_callbacks):
    make_plan(start_date=timezone.localdate() - timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        run = plans.start_billing_run(by=clerk)
    run.refresh_from_db()
    assert run.as_of == timezone.localdate()
    assert run.status == BillingRun.Status.DONE and run.invoices_created == 2


def test_the_task_run_twice_is_harmless(make_plan, clerk, django_capture_on_commit_callbacks):
    make_plan(start_date=timezone.localdate() - timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        run = plans.start_billing_run(by=clerk)
    assert len(queued) == 1
    assert tasks.run_billing_task(run.pk) == BillingRun.Status.DONE
    assert tasks.run_billing_task(run.pk) is None  # claimed and done: nothing to do
    run.refresh_from_db()
    assert run.invoices_created == 2 and Invoice.objects.count() == 2


def test_a_second_run_is_refused_while_one_is_under_way(clerk, finance_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = plans.start_billing_run(by=clerk)
    with pytest.raises(plans.BillingRunConflict, match="under way") as refused:
        plans.start_billing_run(by=finance_manager)
    assert refused.value.run == first
    assert BillingRun.objects.count() == 1


def test_a_run_whose_worker_went_away_long_ago_blocks_nothing(clerk, django_capture_on_commit_callbacks):
    stale = BillingRun.objects.create(as_of=date(2026, 1, 1), status=BillingRun.Status.RUNNING)
    BillingRun.objects.filter(pk=stale.pk).update(started_at=timezone.now() - plans.STALE_RUN - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=False):
        plans.start_billing_run(by=clerk)
    stale.refresh_from_db()
    assert stale.status == BillingRun.Status.FAILED and "worker went away" in stale.failures[-1]["message"]


@pytest.mark.parametrize(
    ("as_of", "message"),
    [(lambda: timezone.localdate() + timedelta(days=1), "day to come"), (lambda: "2026-01-01", "Enter a date")],
)
def test_a_run_for_a_day_to_come_or_no_date_is_refused(clerk, as_of, message):
    with pytest.raises(ValidationError, match=message):
        plans.start_billing_run(by=clerk, as_of=as_of())


def test_the_daily_beat_run_bills_as_of_today(make_plan, django_capture_on_commit_callbacks):
    assert settings.CELERY_BEAT_SCHEDULE["billing-daily-run"]["task"] == "billing.tasks.billing_daily"
    make_plan(start_date=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.billing_daily()
    run = BillingRun.objects.get(pk=run_id)
    assert (run.as_of, run.status, run.started_by, run.invoices_created) == (
        timezone.localdate(),
        BillingRun.Status.DONE,
        None,
        1,
    )


def test_the_daily_run_skips_while_a_run_is_under_way(clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plans.start_billing_run(by=clerk)
        assert tasks.billing_daily() is None
    assert BillingRun.objects.count() == 1
