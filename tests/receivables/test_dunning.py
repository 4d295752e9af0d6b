"""Dunning (receivables.dunning): policies, the selection of what to remind at which level,
the holds, the run in batches and its sending, over hand-built ledgers.

Invoices are issued on 1 March 2026 with 30 days to pay: due 31 March. Days overdue are
counted from there: as of 3 April an invoice is 3 days overdue (the friendly reminder).
"""

from datetime import date, timedelta
from decimal import Decimal
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends import locmem

from billing import services as billing
from billing.models import Invoice
from collaboration.models import FeedItem, InboxEntry
from crm.models import Customer, ServiceCase
from receivables import dunning, services
from receivables.dunning import runs
from receivables.models import (
    CollectionTask,
    DunningFee,
    DunningLevel,
    DunningNotice,
    DunningNoticeLine,
    DunningRun,
    PaymentPromise,
)
from tests.factories import CustomerFactory, OpportunityFactory, ServiceCaseFactory, stage

D = Decimal
ISSUED = date(2026, 3, 1)
DUE = date(2026, 3, 31)


def on(days_overdue: int) -> date:
    """The as-of day an invoice due on DUE is `days_overdue` days overdue."""
    return DUE + timedelta(days=days_overdue)


def levels_of(plan, customer) -> dict[str, str]:
    """{invoice number: level name} of what the plan sends the customer."""
    mine = plan.for_customer(customer.pk)
    return {line.number: line.level.name for line in mine.lines} if mine else {}


def reasons_of(plan, customer) -> set[str]:
    mine = plan.for_customer(customer.pk)
    return {skip.reason for skip in mine.skipped} if mine else set()


@pytest.fixture
def run(clerk, django_capture_on_commit_callbacks):
    """run(as_of) → the run, with its batches and sending done (as under eager Celery)."""

    def start(as_of):
        with django_capture_on_commit_callbacks(execute=True):
            made = dunning.run_dunning(as_of=as_of, by=clerk)
        made.refresh_from_db()
        return made

    return start


def pay(clerk, invoice, amount, when=date(2026, 3, 20)):
    return services.record_payment(
        customer=invoice.customer,
        by=clerk,
        data={"received_on": when, "amount": amount},
        allocations=[(invoice, amount)],
    )


# --- policies ------------------------------------------------------------------------------


class TestPolicies:
    def test_the_default_policy_reminds_before_and_after_the_due_date(self, db):
        policy = dunning.get_default_policy()
        ladder = [(level.days_after_due, level.channel, level.task_days) for level in policy.levels.order_by("order")]
        assert ladder == [
            (-3, "email", None),
            (3, "email", None),
            (14, "email", None),
            (21, "task", 5),
            (30, "letter", None),
        ]
        assert policy.levels.get(days_after_due=30).fee == D("0.00")
        assert dunning.get_default_policy() == policy  # made once

    def test_overlapping_levels_are_refused(self, finance_manager):
        levels = [{"name": "Reminder", "days_after_due": 7}, {"name": "Again", "days_after_due": 7}]
        with pytest.raises(ValidationError, match="overlap"):
            dunning.save_policy(by=finance_manager, name="Strict", levels=levels)

    def test_levels_out_of_order_are_refused(self, finance_manager):
        levels = [{"name": "Late", "days_after_due": 30}, {"name": "Early", "days_after_due": 7}]
        with pytest.raises(ValidationError, match="in order of days after due"):
            dunning.save_policy(by=finance_manager, name="Strict", levels=levels)

    def test_an_unknown_template_field_is_refused_by_name(self, finance_manager):
        levels = [{"name": "Reminder", "days_after_due": 7, "body_template": "Dear {customer.nmae}"}]
        with pytest.raises(ValidationError, match=r"Unknown field \{customer.nmae\}"):
            dunning.save_policy(by=finance_manager, name="Strict", levels=levels)

    def test_a_template_cannot_reach_an_objects_attributes(self):
        with pytest.raises(ValidationError, match="Unknown field"):
            dunning.check_template("{customer.__class__}")
        with pytest.raises(ValidationError, match="without a format"):
            dunning.check_template("{total_due!r}")
        assert dunning.render_template("{{literal}} {level}", {"level": "Final"}) == "{literal} Final"

    def test_only_finance_managers_edit_policies(self, clerk):
        with pytest.raises(PermissionDenied):
            dunning.save_policy(by=clerk, name="Mine", levels=[{"name": "R", "days_after_due": 1}])

    def test_a_policy_is_changed_in_place_and_a_customer_may_follow_it(self, finance_manager, customer, issue):
        policy = dunning.save_policy(
            by=finance_manager,
            name="Strict",
            levels=[{"name": "Early", "days_after_due": 1}, {"name": "Late", "days_after_due": 5}],
        )
        policy = dunning.save_policy(
            by=finance_manager,
            policy=policy,
            name="Strict",
            levels=[{"name": "Early", "days_after_due": 5}, {"name": "Late", "days_after_due": 10}],
        )
        assert list(policy.levels.values_list("days_after_due", flat=True)) == [5, 10]
        dunning.set_customer_policy(customer=customer, by=finance_manager, policy=policy)
        invoice = issue("100.00")
        assert levels_of(dunning.plan_dunning(on(6)), customer) == {invoice.number: "Early"}


# --- selection -----------------------------------------------------------------------------


class TestSelection:
    def test_one_notice_lists_every_overdue_invoice_each_at_its_own_level(self, issue, customer):
        old = issue("100.00", on=ISSUED - timedelta(days=20))  # due 11 March: 34 days overdue on 14 April
        middle = issue("200.00", on=ISSUED)  # due 31 March: 14 days overdue
        new = issue("300.00", on=ISSUED + timedelta(days=14))  # due 14 April: due today
        soon = issue("400.00", on=ISSUED + timedelta(days=16))  # due 16 April: in two days
        plan = dunning.plan_dunning(on(14))
        assert levels_of(plan, customer) == {
            old.number: "Final notice",
            middle.number: "Second notice",
            new.number: "Due soon",  # due today: “due soon” runs from 3 days before until the reminder
            soon.number: "Due soon",
        }
        mine = plan.for_customer(customer.pk)
        assert mine.level.name == "Final notice" and mine.channel == "letter"

    def test_a_partly_paid_invoice_is_dunned_on_what_is_left(self, issue, customer, clerk):
        invoice = issue("1000.00")
        pay(clerk, invoice, D("400.00"))
        (line,) = dunning.plan_dunning(on(3)).for_customer(customer.pk).lines
        assert line.balance == D("600.00")

    def test_paid_void_and_draft_invoices_are_never_dunned(self, issue, customer, clerk, finance_manager):
        paid = issue("100.00")
        pay(clerk, paid, D("100.00"))
        void = issue("100.00")
        billing.void_invoice(invoice=void, by=finance_manager, reason="Wrong customer")
        billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Draft", "quantity": "1", "unit_price": "5"}]
        )
        assert dunning.plan_dunning(on(40)).customers == []

    def test_a_level_is_sent_once_per_invoice_and_the_next_when_its_day_comes(self, issue, customer, run):
        invoice = issue("100.00")
        run(on(3))
        assert levels_of(dunning.plan_dunning(on(10)), customer) == {}
        assert levels_of(dunning.plan_dunning(on(14)), customer) == {invoice.number: "Second notice"}

    def test_a_level_jumped_over_is_not_sent_later(self, issue, customer, run):
        invoice = issue("100.00")
        run(on(14))  # the second notice, the friendly reminder never
        assert levels_of(dunning.plan_dunning(on(16)), customer) == {}
        assert set(DunningNoticeLine.objects.filter(invoice=invoice).values_list("level__name", flat=True)) == {
            "Second notice"
        }

    def test_no_second_message_to_a_customer_within_48_hours(self, issue, customer, run):
        issue("100.00")  # due 31 March
        later = issue("100.00", on=ISSUED + timedelta(days=1))  # due 1 April
        run(on(3))  # 3 April: the first invoice's friendly reminder
        plan = dunning.plan_dunning(on(4))  # 4 April: the second's is due, but a notice went yesterday
        assert reasons_of(plan, customer) == {"recent_notice"} and levels_of(plan, customer) == {}
        assert levels_of(dunning.plan_dunning(on(5)), customer) == {later.number: "Friendly reminder"}

    def test_the_level_after_a_call_waits_for_its_deadline_or_its_completion(self, issue, customer, run, rep):
        invoice = issue("100.00")
        run(on(28))  # the owner is asked to call, by 3 May (on(33))
        task = CollectionTask.objects.get(customer=customer)
        assert task.owner == rep and task.due == on(33) and task.status == "open"
        plan = dunning.plan_dunning(on(30))  # the final notice's day, before the call's deadline
        assert levels_of(plan, customer) == {} and reasons_of(plan, customer) == {"waiting_for_task"}
        dunning.complete_task(task=task, by=rep, outcome="called", note="Pays next week")
        assert levels_of(dunning.plan_dunning(on(30)), customer) == {invoice.number: "Final notice"}

    def test_the_next_level_goes_once_the_calls_deadline_has_passed(self, issue, customer, run):
        invoice = issue("100.00")
        run(on(21))  # the call is due by 26 April and is never logged
        assert levels_of(dunning.plan_dunning(on(30)), customer) == {invoice.number: "Final notice"}

    def test_an_inactive_policy_falls_back_to_the_default(self, finance_manager, customer, issue):
        policy = dunning.save_policy(by=finance_manager, name="Off", levels=[{"name": "Odd", "days_after_due": 1}])
        dunning.set_customer_policy(customer=customer, by=finance_manager, policy=policy)
        policy.active = False
        policy.save()
        invoice = issue("100.00")
        assert levels_of(dunning.plan_dunning(on(3)), customer) == {invoice.number: "Friendly reminder"}

    def test_the_plan_reads_a_fixed_number_of_queries(self, issue, clerk, django_assert_max_num_queries):
        for _ in range(6):
            issue("100.00", who=CustomerFactory())
        dunning.get_default_policy()
        with django_assert_max_num_queries(12):
            plan = dunning.plan_dunning(on(3))
        assert len(plan.to_send) == 6


# --- holds ---------------------------------------------------------------------------------


class TestHolds:
    def test_a_late_stage_deal_holds_the_customer(self, issue, customer):
        issue("100.00")
        deal = OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
        plan = dunning.plan_dunning(on(3))
        assert levels_of(plan, customer) == {} and reasons_of(plan, customer) == {"deal"}
        assert "Renewal 2027" in plan.for_customer(customer.pk).skip_text
        deal.stage = stage("Proposal")  # 50 %: not late
        deal.save()
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == set()

    def test_a_large_deal_holds_the_customer_whatever_its_stage(self, issue, customer, settings):
        issue("100.00")
        OpportunityFactory(customer=customer, stage=stage("Qualification"), amount=D("60000.00"))
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == {"deal"}
        settings.RECEIVABLES = {**settings.RECEIVABLES, "DUNNING_HOLD_AMOUNT": "100000"}
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == set()

    def test_a_won_or_lost_deal_holds_nothing(self, issue, customer):
        issue("100.00")
        OpportunityFactory(customer=customer, stage=stage("Won"), amount=D("90000.00"))
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == set()

    def test_an_open_dispute_holds_only_its_invoice(self, issue, customer, rep, clerk):
        disputed, other = issue("100.00"), issue("50.00")
        dispute = dunning.open_dispute(invoice=disputed, by=rep, amount="100.00", reason="Goods damaged")
        plan = dunning.plan_dunning(on(3))
        assert levels_of(plan, customer) == {other.number: "Friendly reminder"}
        assert reasons_of(plan, customer) == {"dispute"}
        dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="rejected", note="Delivered intact (photos)")
        assert disputed.number in levels_of(dunning.plan_dunning(on(3)), customer)

    @pytest.mark.parametrize(("severity", "held"), [("high", True), ("critical", True), ("normal", False)])
    def test_a_serious_service_case_holds_the_customer(self, issue, customer, severity, held):
        issue("100.00")
        case = ServiceCaseFactory(customer=customer, severity=severity)
        assert (reasons_of(dunning.plan_dunning(on(3)), customer) == {"service_case"}) is held
        case.status = ServiceCase.Status.RESOLVED
        case.save()
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == set()

    def test_an_active_promise_holds_until_its_day(self, issue, customer, clerk):
        invoice = issue("100.00")
        dunning.take_promise(customer=customer, by=clerk, amount="100.00", promised_for=on(10), on=on(2))
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == {"promise"}
        assert reasons_of(dunning.plan_dunning(on(10)), customer) == {"promise"}
        assert levels_of(dunning.plan_dunning(on(11)), customer) == {invoice.number: "Friendly reminder"}

    def test_a_promise_on_one_invoice_holds_only_that_invoice(self, issue, customer, clerk):
        promised, other = issue("100.00"), issue("70.00")
        dunning.take_promise(customer=customer, invoice=promised, by=clerk, amount="60", promised_for=on(10), on=on(2))
        assert levels_of(dunning.plan_dunning(on(3)), customer) == {other.number: "Friendly reminder"}

    def test_a_manual_hold_holds_until_released_or_expired(self, issue, customer, clerk):
        invoice = issue("100.00")
        hold = dunning.set_dunning_hold(customer=customer, by=clerk, reason="Paying via parent company", on=on(0))
        assert reasons_of(dunning.plan_dunning(on(3)), customer) == {"manual_hold"}
        dunning.release_dunning_hold(hold=hold, by=clerk)
        assert levels_of(dunning.plan_dunning(on(3)), customer) == {invoice.number: "Friendly reminder"}
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="Until month end", until=on(5), on=on(0))
        assert reasons_of(dunning.plan_dunning(on(5)), customer) == {"manual_hold"}
        assert reasons_of(dunning.plan_dunning(on(6)), customer) == set()

    def test_holds_are_read_for_all_customers_at_once(self, issue, clerk, django_assert_num_queries):
        customers = [CustomerFactory() for _ in range(5)]
        for customer in customers:
            dunning.set_dunning_hold(customer=customer, by=clerk, reason="Talks", on=on(0))
            ServiceCaseFactory(customer=customer, severity="high")
        with django_assert_num_queries(5):
            held = dunning.holds_for(customers, on(3))
        assert {kind for holds in held.values() for kind, _ in holds.customer} == {"manual_hold", "service_case"}
        assert len(held) == 5


# --- the run -------------------------------------------------------------------------------


class TestRun:
    def test_one_email_per_customer_lists_all_its_invoices(self, issue, customer, run):
        first, second = issue("100.00"), issue("250.50", on=ISSUED - timedelta(days=14))
        other = CustomerFactory()
        issue("80.00", who=other)
        made = run(on(3))
        assert made.status == "done" and made.progress_done == made.progress_total == 2
        assert made.summary["sent"] == 2 and made.percent_done == 100
        (message,) = [m for m in mail.outbox if customer.email in m.to]
        assert first.number in message.body and second.number in message.body
        assert "Total: 350.50 EUR" in message.body
        assert message.subject == f"Second notice: invoices of {customer.name}"
        notice = DunningNotice.objects.get(customer=customer)
        assert notice.status == "sent" and notice.body == message.body  # kept as sent
        assert FeedItem.objects.filter(verb="dunning.notice_sent", target_id=customer.pk).exists()

    def test_the_preview_is_what_the_run_sends(self, issue, customer, clerk, run):
        issue("100.00")
        issue("200.00", on=ISSUED - timedelta(days=30))
        held = CustomerFactory()
        issue("300.00", who=held)
        dunning.set_dunning_hold(customer=held, by=clerk, reason="Negotiating", on=on(0))
        preview = dunning.plan_dunning(on(14))
        planned = {(line.invoice_id, line.level.pk) for plan in preview.to_send for line in plan.lines}
        made = run(on(14))
        sent = set(DunningNoticeLine.objects.filter(notice__run=made).values_list("invoice_id", "level_id"))
        assert planned == sent and planned
        assert made.totals["skipped"] == preview.skipped_by_reason() == {"manual_hold": 1}

    def test_a_batch_run_twice_creates_and_sends_nothing_new(
        self, issue, customer, run, django_capture_on_commit_callbacks
    ):
        issue("100.00")
        made = run(on(3))
        counts = (DunningNotice.objects.count(), DunningNoticeLine.objects.count(), len(mail.outbox))
        made.status = "running"  # as if the batch were delivered again while the run is open
        made.save()
        with django_capture_on_commit_callbacks(execute=True):
            dunning.make_notices(run_id=made.pk, customer_ids=[customer.pk])
        notice = DunningNotice.objects.get(customer=customer)
        assert dunning.send_notice(notice_id=notice.pk) is False
        assert (DunningNotice.objects.count(), DunningNoticeLine.objects.count(), len(mail.outbox)) == counts

    def test_a_batch_sends_over_one_connection_and_a_failed_send_is_retried_alone(
        self, issue, customer, clerk, monkeypatch, django_capture_on_commit_callbacks
    ):
        others = CustomerFactory.create_batch(2)
        for who in (customer, *others):
            issue("100.00", who=who)
        with django_capture_on_commit_callbacks(execute=False):
            made = dunning.run_dunning(as_of=on(3), by=clerk)
        with django_capture_on_commit_callbacks(execute=False):
            notice_ids = dunning.make_notices(run_id=made.pk, customer_ids=[customer.pk, *(o.pk for o in others)])
        opened = []

        class Flaky(locmem.EmailBackend):
            def open(self):
                opened.append(self)
                return super().open()

            def send_messages(self, messages):
                if customer.email in messages[0].to:
                    raise SMTPException("451 try again later")
                return super().send_messages(messages)

        monkeypatch.setattr(runs, "get_connection", lambda: Flaky())
        with django_capture_on_commit_callbacks(execute=False) as retries:
            assert dunning.send_notices(notice_ids=notice_ids) == 2
        assert len({id(connection) for connection in opened}) == 1  # one connection for the batch
        assert sorted(m.to[0] for m in mail.outbox) == sorted(o.email for o in others)
        failed = DunningNotice.objects.get(customer=customer)
        assert (failed.status, failed.error, failed.attempts) == ("pending", "451 try again later", 1)
        assert [c for c in retries if "_queue_send." in c.__qualname__]  # send_dunning_notice(failed), after a pause
        monkeypatch.setattr(runs, "get_connection", lambda: locmem.EmailBackend())
        assert dunning.send_notices(notice_ids=notice_ids) == 1  # run again: only the failed one goes
        assert len(mail.outbox) == 3 and DunningNotice.objects.filter(run=made, status="sent").count() == 3

    def test_a_notice_left_pending_by_a_crash_is_sent_once_on_resume(
        self, issue, customer, clerk, django_capture_on_commit_callbacks
    ):
        issue("100.00")
        with django_capture_on_commit_callbacks(execute=False):  # the worker died: nothing ran
            made = dunning.run_dunning(as_of=on(3), by=clerk)
        dunning.make_notices(run_id=made.pk, customer_ids=[customer.pk])  # the batch ran, the send did not
        assert DunningNotice.objects.get().status == "pending" and mail.outbox == []
        with django_capture_on_commit_callbacks(execute=True):
            dunning.resume_run(run=made, by=clerk)
        assert len(mail.outbox) == 1 and DunningNoticeLine.objects.count() == 1
        assert DunningRun.objects.get(pk=made.pk).status == "done"
        with pytest.raises(dunning.DunningConflict, match="nothing to resume"):
            dunning.resume_run(run=made, by=clerk)

    def test_the_request_only_records_the_run_and_the_plan_is_celery_work(
        self, issue, customer, clerk, django_capture_on_commit_callbacks
    ):
        issue("100.00")
        issue("100.00", who=CustomerFactory())
        with django_capture_on_commit_callbacks(execute=False) as queued:
            made = dunning.run_dunning(as_of=on(3), by=clerk)
        assert made.status == "running" and made.totals == {} and made.progress_total == 0
        assert len(queued) == 1 and not DunningNotice.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            assert dunning.plan_run(run_id=made.pk) == 2
        made.refresh_from_db()
        assert made.totals["planned"] == made.progress_total == 2 and made.status == "done"
        assert len(mail.outbox) == 2

    def test_a_plan_delivered_twice_counts_and_sends_once(
        self, issue, customer, clerk, django_capture_on_commit_callbacks
    ):
        issue("100.00")
        with django_capture_on_commit_callbacks(execute=False):
            made = dunning.run_dunning(as_of=on(3), by=clerk)
        dunning.make_notices(run_id=made.pk, customer_ids=[customer.pk])  # the first plan's batch, unsent
        with django_capture_on_commit_callbacks(execute=True):
            dunning.plan_run(run_id=made.pk)
            dunning.plan_run(run_id=made.pk)
        made.refresh_from_db()
        assert (made.progress_total, made.progress_done, made.status) == (1, 1, "done")
        assert len(mail.outbox) == 1 and DunningNoticeLine.objects.count() == 1

    def test_fees_and_interest_are_open_items_of_their_own(self, finance_manager, customer, issue, run):
        policy = dunning.save_policy(
            by=finance_manager,
            name="With fees",
            levels=[
                {
                    "name": "Reminder",
                    "days_after_due": 10,
                    "fee": "5.00",
                    "interest_rate": "9.125",
                    "body_template": "{invoices}\n{fee}",
                }
            ],
        )
        dunning.set_customer_policy(customer=customer, by=finance_manager, policy=policy)
        invoice = issue("1000.00")
        run(on(20))
        fees = {
            fee.kind: (fee.amount, fee.currency, fee.status) for fee in DunningFee.objects.filter(customer=customer)
        }
        # 1000.00 × 9.13 % (two places) × 20 / 365 = 5.0027… → 5.00
        assert fees == {"fee": (D("5.00"), "EUR", "open"), "interest": (D("5.00"), "EUR", "open")}
        invoice.refresh_from_db()
        assert invoice.total == invoice.balance_due == D("1000.00")  # never added to the invoice
        assert "A dunning fee of 5.00 EUR is charged separately." in mail.outbox[0].body

    def test_a_task_level_tells_the_owner_and_emails_no_one(self, issue, customer, run, rep):
        issue("100.00")
        run(on(21))
        assert mail.outbox == []
        item = FeedItem.objects.get(verb="dunning.task_created")
        assert item.data["due"] == "2026-04-26"
        assert InboxEntry.objects.filter(user=rep, item=item, mentioned=True).exists()

    def test_a_customer_without_an_address_fails_alone(self, issue, customer, run):
        customer.email = ""
        customer.save()
        issue("100.00")
        issue("100.00", who=CustomerFactory())
        made = run(on(3))
        assert made.summary["sent"] == 1 and made.summary["failed"] == 1 and made.status == "done"
        assert "no email address" in DunningNotice.objects.get(customer=customer).error

    def test_a_run_with_nothing_to_send_is_done_at_once(self, clerk, run):
        made = run(on(3))
        assert made.status == "done" and made.progress_total == 0

    def test_a_future_date_is_refused(self, clerk):
        with pytest.raises(ValidationError, match="never a future one"):
            dunning.run_dunning(as_of=date.today() + timedelta(days=1), by=clerk)
        assert not DunningRun.objects.exists()

    def test_a_second_run_while_one_is_running_is_refused(self, issue, clerk, django_capture_on_commit_callbacks):
        issue("100.00")
        with django_capture_on_commit_callbacks(execute=False):
            dunning.run_dunning(as_of=on(3), by=clerk)
        with pytest.raises(dunning.DunningConflict, match="in progress"):
            dunning.run_dunning(as_of=on(3), by=clerk)
        assert DunningRun.objects.count() == 1

    def test_only_finance_runs_dunning(self, rep):
        with pytest.raises(PermissionDenied):
            dunning.run_dunning(as_of=on(3), by=rep)


def test_a_letter_goes_by_email_with_its_pdf(issue, customer, run):
    issue("100.00")
    run(on(30))
    (message,) = mail.outbox
    ((filename, content, mimetype),) = message.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF") and filename.startswith("dunning-notice-")
    assert message.subject == f"Final notice: invoices of {customer.name}"


# --- disputes, promises, holds: bad input -------------------------------------------------


class TestBadInput:
    def test_a_dispute_larger_than_the_invoice_is_refused(self, issue, rep):
        invoice = issue("100.00")
        with pytest.raises(ValidationError, match="cannot be larger"):
            dunning.open_dispute(invoice=invoice, by=rep, amount="100.01", reason="Too much")

    def test_a_rep_disputes_only_their_own_customers_invoices(self, issue, other_rep):
        with pytest.raises(PermissionDenied):
            dunning.open_dispute(invoice=issue("100.00"), by=other_rep, amount="10", reason="Mine?")

    def test_one_open_dispute_per_invoice(self, issue, rep, clerk):
        invoice = issue("100.00")
        dunning.open_dispute(invoice=invoice, by=rep, amount="10", reason="Price")
        with pytest.raises(dunning.DunningConflict, match="open dispute already"):
            dunning.open_dispute(invoice=invoice, by=clerk, amount="20", reason="Quantity")

    def test_a_dispute_is_resolved_by_a_credit_note_on_its_invoice(self, issue, rep, clerk, customer):
        invoice = issue("100.00")
        dispute = dunning.open_dispute(invoice=invoice, by=rep, amount="100", reason="Not delivered")
        with pytest.raises(PermissionDenied):
            dunning.resolve_dispute(dispute=dispute, by=rep, outcome="rejected", note="No")
        with pytest.raises(ValidationError, match="Say why"):
            dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="rejected")
        with pytest.raises(ValidationError, match="Choose the credit note"):
            dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="credit")
        note = billing.credit_invoice(invoice=Invoice.objects.get(pk=invoice.pk), by=clerk, reason="Not delivered")
        dispute = dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="credit", credit_note=note)
        assert dispute.status == "resolved_credit" and dispute.credit_note == note
        assert FeedItem.objects.filter(verb="dispute.resolved", target_id=dispute.pk).exists()

    def test_a_promise_in_the_past_is_refused(self, issue, customer, clerk):
        issue("100.00")
        with pytest.raises(ValidationError, match="not the past"):
            dunning.take_promise(customer=customer, by=clerk, amount="50", promised_for=on(1), on=on(2))

    def test_a_promise_above_the_balance_is_refused(self, issue, customer, clerk):
        invoice = issue("100.00")
        issue("50.00")
        with pytest.raises(ValidationError, match="cannot be larger"):
            dunning.take_promise(customer=customer, by=clerk, amount="150.01", promised_for=on(9), on=on(2))
        with pytest.raises(ValidationError, match="cannot be larger"):
            dunning.take_promise(
                customer=customer, invoice=invoice, by=clerk, amount="101", promised_for=on(9), on=on(2)
            )
        assert not PaymentPromise.objects.exists()

    def test_a_hold_without_a_reason_is_refused(self, customer, clerk):
        with pytest.raises(ValidationError, match="Say why"):
            dunning.set_dunning_hold(customer=customer, by=clerk, reason="  ")

    def test_reps_do_not_set_holds_or_take_promises(self, customer, rep):
        with pytest.raises(PermissionDenied):
            dunning.set_dunning_hold(customer=customer, by=rep, reason="Friend")
        with pytest.raises(PermissionDenied):
            dunning.take_promise(customer=customer, by=rep, amount="1", promised_for=date.today())


class TestPromises:
    def test_a_promise_paid_by_its_day_is_kept(self, issue, customer, clerk):
        invoice = issue("100.00")
        promise = dunning.take_promise(customer=customer, by=clerk, amount="100", promised_for=on(10), on=on(2))
        pay(clerk, invoice, D("100.00"), when=on(5))
        assert dunning.evaluate_promises(as_of=on(6)) == {"kept": 1, "broken": 0}
        promise.refresh_from_db()
        assert promise.status == "kept" and promise.evaluated_on == on(6)

    def test_a_promise_unpaid_after_its_day_is_broken_and_dunning_resumes(self, issue, customer, clerk):
        invoice = issue("100.00")
        promise = dunning.take_promise(customer=customer, by=clerk, amount="100", promised_for=on(10), on=on(2))
        pay(clerk, invoice, D("40.00"), when=on(5))
        assert dunning.evaluate_promises(as_of=on(10)) == {"kept": 0, "broken": 0}  # its day has not passed
        assert dunning.evaluate_promises(as_of=on(11)) == {"kept": 0, "broken": 1}
        promise.refresh_from_db()
        assert promise.status == "broken"
        item = FeedItem.objects.get(verb="promise.broken")
        assert item.target_id == promise.pk
        assert levels_of(dunning.plan_dunning(on(11)), customer) == {invoice.number: "Friendly reminder"}
        assert dunning.evaluate_promises(as_of=on(12)) == {"kept": 0, "broken": 0}  # once


def test_a_task_is_done_by_its_owner_or_finance_once(issue, customer, run, rep, other_rep, clerk):
    issue("100.00")
    run(on(21))
    task = CollectionTask.objects.get()
    with pytest.raises(PermissionDenied):
        dunning.complete_task(task=task, by=other_rep, outcome="called")
    dunning.complete_task(task=task, by=clerk, outcome="promised", note="Pays Friday")
    with pytest.raises(dunning.DunningConflict):
        dunning.complete_task(task=task, by=rep, outcome="called")
    assert FeedItem.objects.filter(verb="dunning.task_done").count() == 1


def test_levels_choose_the_channel_of_the_notice(issue, customer):
    issue("100.00", on=ISSUED - timedelta(days=30))
    issue("100.00")
    plan = dunning.plan_dunning(on(3))
    assert plan.for_customer(customer.pk).channel == DunningLevel.Channel.LETTER


def test_a_payment_after_the_promised_day_does_not_keep_the_promise(issue, customer, clerk):
    invoice = issue("100.00")
    promise = dunning.take_promise(customer=customer, by=clerk, amount="100", promised_for=on(10), on=on(2))
    pay(clerk, invoice, D("100.00"), when=on(12))  # two days late, and the check runs a day later still
    assert dunning.evaluate_promises(as_of=on(13)) == {"kept": 0, "broken": 1}
    promise.refresh_from_db()
    assert promise.status == "broken"


def test_a_run_that_cannot_finish_is_stopped_and_another_may_start(
    issue, customer, clerk, run, django_capture_on_commit_callbacks
):
    issue("100.00")
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the batches
        stuck = dunning.run_dunning(as_of=on(3), by=clerk)
    with pytest.raises(ValidationError, match="Say why"):
        dunning.stop_run(run=stuck, by=clerk, reason="")
    stopped = dunning.stop_run(run=stuck, by=clerk, reason="Redis was restarted")
    assert stopped.status == "failed" and stopped.totals["stopped"] == "Redis was restarted"
    assert run(on(3)).summary["sent"] == 1


def test_the_preview_is_for_finance_and_never_for_a_future_day(issue, customer, clerk, rep, sales_manager):
    issue("100.00")
    plan = dunning.preview_dunning(as_of=on(3), by=clerk)
    assert [c.customer_id for c in plan.to_send] == [customer.pk]
    assert dunning.preview_dunning(as_of=on(3), by=sales_manager).to_send
    with pytest.raises(PermissionDenied):
        dunning.preview_dunning(as_of=on(3), by=rep)
    with pytest.raises(ValidationError, match="never a future one"):
        dunning.preview_dunning(as_of=date.today() + timedelta(days=1), by=clerk)


# --- the worklist's next level ---------------------------------------------------------------


def next_level_invoice_by_invoice(customer, as_of) -> tuple[date | None, str]:
    """What receivables.collections.next_levels computes, the long way: every owed invoice
    with its own highest level sent, the soonest day, the older invoice first."""
    from receivables.dunning.policies import policy_ladders

    ladders, default_id = policy_ladders()
    found = (None, "")
    for invoice in Invoice.objects.owed().filter(customer=customer).order_by("due_date", "pk"):
        ladder = ladders.get(getattr(getattr(customer, "standing", None), "dunning_policy_id", None))
        ladder = ladder or ladders[default_id]
        sent = max((line.level.days_after_due for line in invoice.dunning_lines.all()), default=None)
        days = (as_of - invoice.due_date).days
        due_now = [level for level in ladder if level.days_after_due <= days]
        if due_now and (sent is None or due_now[-1].days_after_due > sent):
            upcoming, day = due_now[-1], as_of
        else:
            after = max(days, sent if sent is not None else days)
            upcoming = next((level for level in ladder if level.days_after_due > after), None)
            if upcoming is None:
                continue
            day = invoice.due_date + timedelta(days=upcoming.days_after_due)
        if found[0] is None or day < found[0]:
            found = (day, upcoming.name)
    return found


def test_the_worklists_next_level_is_the_soonest_of_every_invoice(issue, customer, run):
    from receivables.collections import next_levels

    issue("100.00", on=ISSUED - timedelta(days=20))  # 50 days overdue at on(30)
    issue("200.00", on=ISSUED - timedelta(days=12))
    issue("300.00")
    run(on(3))  # +3 on the older ones
    issue("400.00", on=ISSUED + timedelta(days=10))  # not reminded yet
    for days in (3, 5, 14, 16, 25, 30, 45):
        as_of = on(days)
        assert next_levels([customer.pk], as_of).get(customer.pk, (None, "")) == next_level_invoice_by_invoice(
            customer, as_of
        ), days
    run(on(16))
    for days in (16, 20, 31, 60):
        as_of = on(days)
        assert next_levels([customer.pk], as_of).get(customer.pk, (None, "")) == next_level_invoice_by_invoice(
            customer, as_of
        ), days


def test_the_worklists_next_levels_of_several_customers_each_on_its_policy(issue, customer, run, finance_manager, rep):
    from receivables.collections import next_levels
    from receivables.models import Standing

    other_customer = CustomerFactory(owner=rep, name="Bolt Logistics")
    strict = dunning.save_policy(
        by=finance_manager,
        name="Strict",
        levels=[{"name": "Early", "days_after_due": 1}, {"name": "Late", "days_after_due": 7}],
    )
    dunning.set_customer_policy(customer=other_customer, by=finance_manager, policy=strict)
    issue("100.00", on=ISSUED - timedelta(days=20))
    issue("300.00")
    issue("150.00", who=other_customer)
    issue("250.00", on=ISSUED + timedelta(days=5), who=other_customer)
    run(on(3))
    both = list(Customer.objects.filter(pk__in=[customer.pk, other_customer.pk]))  # their standing as stored
    for days in (3, 6, 9, 14, 40):
        as_of = on(days)
        read_here = next_levels([c.pk for c in both], as_of)
        policies = dict(Standing.objects.values_list("customer_id", "dunning_policy_id"))
        given = next_levels([c.pk for c in both], as_of, policies)
        expected = {c.pk: next_level_invoice_by_invoice(c, as_of) for c in both}
        assert read_here == given == {pk: found for pk, found in expected.items() if found[0]}, days
    assert next_levels([other_customer.pk], on(3))[other_customer.pk][1] in ("Early", "Late")
