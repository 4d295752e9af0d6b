"""Credit control: exposure, credit left, automatic and manual holds, and the approval
that lets one win or one issue through a hold (receivables.credit)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import collaboration
from billing import services as billing
from billing.models import Invoice
from collaboration.models import ApprovalRequest, FeedItem
from collaboration.services import decide_approval
from crm import opportunities as deals
from receivables import credit, services
from receivables.models import CreditHold, CreditRelease
from tests.factories import CustomerFactory, OpportunityFactory, OpportunityLineFactory, stage

D = Decimal
TODAY = timezone.localdate()
pytestmark = pytest.mark.django_db


@pytest.fixture
def recent(issue):
    """An invoice of `net` issued today (due in 30 days: nothing overdue)."""
    return lambda net, **kwargs: issue(net, on=TODAY, **kwargs)


def won_deal(customer, amount):
    deal = OpportunityFactory(customer=customer, stage=stage("Won"), closed_on=TODAY, amount=D(amount))
    OpportunityLineFactory(opportunity=deal, unit_price=D(amount))
    return deal


def open_deal(customer, amount="500.00"):
    deal = OpportunityFactory(customer=customer, stage=stage("Proposal"), amount=D(amount))
    OpportunityLineFactory(opportunity=deal, unit_price=D(amount))
    return deal


def hold(customer, finance_manager, reason="Cheque bounced", until=None):
    return credit.set_hold(customer=customer, by=finance_manager, reason=reason, until=until)


def approve(target, kind, asked_by, approver):
    approval = collaboration.request_approval(target=target, kind=kind, by=asked_by, reason="Paid today")
    return decide_approval(approval=approval, by=approver, approve=True)


class TestExposure:
    def test_it_is_open_ar_plus_won_not_invoiced_less_unapplied_credit(self, clerk, customer, recent):
        recent("1000.00")
        deal = won_deal(customer, "3000.00")
        part = recent("1200.00")
        Invoice.objects.filter(pk=part.pk).update(opportunity=deal)
        services.record_payment(
            customer=customer,
            by=clerk,
            data={"received_on": TODAY, "amount": "300.00", "method": "bank_transfer"},
            allocations=[],
        )
        status = credit.credit_status(customer)
        assert (status.open_ar, status.won_not_invoiced, status.unapplied) == (D("2200.00"), D("1800.00"), D("300.00"))
        assert status.exposure == D("3700.00")
        assert (status.limit, status.left, status.on_hold) == (D("10000.00"), D("6300.00"), False)

    def test_paid_void_and_draft_invoices_are_not_open_ar(self, clerk, finance_manager, customer, recent):
        paid = recent("400.00")
        services.record_payment(
            customer=customer, by=clerk, data={"received_on": TODAY, "amount": "400.00", "method": "cash"}
        )
        void = recent("250.00")
        billing.void_invoice(invoice=void, by=finance_manager, reason="Wrong customer")
        billing.create_invoice(
            by=clerk, customer=customer, data={}, lines=[{"description": "X", "quantity": "1", "unit_price": "99"}]
        )
        assert paid.pk and credit.credit_status(customer).open_ar == D("0.00")

    def test_an_over_invoiced_deal_does_not_lower_the_exposure(self, customer, recent):
        deal = won_deal(customer, "100.00")
        over = recent("150.00")
        Invoice.objects.filter(pk=over.pk).update(opportunity=deal)
        status = credit.credit_status(customer)
        assert (status.won_not_invoiced, status.exposure) == (D("0.00"), D("150.00"))

    def test_a_credited_part_of_a_deal_is_owed_again(self, clerk, customer, recent):
        deal = won_deal(customer, "1000.00")
        invoice = recent("1000.00")
        Invoice.objects.filter(pk=invoice.pk).update(opportunity=deal)
        line = invoice.lines.get()
        billing.credit_invoice(
            invoice=invoice, by=clerk, reason="Discount", lines=[{"invoice_line": line.pk, "quantity": "0.2"}]
        )
        assert credit.credit_status(customer).won_not_invoiced == D("200.00")

    def test_other_customers_and_currencies_do_not_count(self, customer, recent, issue):
        other = CustomerFactory()
        issue("5000.00", on=TODAY, who=other)
        recent("100.00")
        Invoice.objects.create(
            customer=customer,
            currency="USD",
            status=Invoice.Status.ISSUED,
            number="INV-USD-1",
            issue_date=TODAY,
            due_date=TODAY,
            total=D("900.00"),
            balance_due=D("900.00"),
            created_by=customer.owner,
        )
        assert credit.credit_status(customer).open_ar == D("100.00")

    def test_without_a_limit_nothing_is_left_or_over(self, customer, recent):
        customer.credit_limit = None
        customer.save(update_fields=["credit_limit"])
        recent("99999.00")
        status = credit.credit_status(customer)
        assert (status.limit, status.left, status.on_hold, status.used_percent) == (None, None, False, None)


class TestAutomaticHold:
    def test_exposure_over_the_limit_holds_and_under_it_does_not(self, customer, recent):
        recent("9999.99")
        assert not credit.credit_status(customer).on_hold
        recent("0.02")
        status = credit.credit_status(customer)
        assert status.on_hold and status.left == D("-0.01")
        assert "over the credit limit" in status.reasons[0]

    def test_won_deals_not_invoiced_count_towards_the_limit(self, customer):
        won_deal(customer, "10000.01")
        assert credit.credit_status(customer).on_hold

    def test_unapplied_credit_brings_it_back_under(self, clerk, customer, recent):
        recent("10500.00")
        services.record_payment(
            customer=customer,
            by=clerk,
            data={"received_on": TODAY, "amount": "600.00", "method": "cash"},
            allocations=[],
        )
        assert not credit.credit_status(customer).on_hold

    @pytest.mark.parametrize(
        ("days_overdue", "amount", "held"),
        [
            (61, "1000.01", True),  # more than 1,000.00 overdue by more than 60 days
            (61, "1000.00", False),  # not more than the amount
            (60, "5000.00", False),  # not more than the days
            (200, "999.99", False),
        ],
    )
    def test_overdue_beyond_the_days_by_more_than_the_amount_holds(self, customer, issue, days_overdue, amount, held):
        customer.credit_limit = None
        customer.save(update_fields=["credit_limit"])
        issue(amount, on=TODAY - timedelta(days=30 + days_overdue), days=30)
        status = credit.credit_status(customer)
        assert status.on_hold is held
        if held:
            assert "overdue by more than 60 days" in status.reasons[0]

    def test_the_thresholds_come_from_the_settings(self, settings, customer, issue):
        settings.RECEIVABLES = {**settings.RECEIVABLES, "HOLD_OVERDUE_DAYS": 10, "HOLD_OVERDUE_AMOUNT": "50.00"}
        issue("60.00", on=TODAY - timedelta(days=41), days=30)
        assert credit.credit_status(customer).on_hold

    def test_a_payment_lifts_it(self, clerk, customer, issue):
        issue("2000.00", on=TODAY - timedelta(days=120), days=30)
        assert credit.credit_status(customer).on_hold
        services.record_payment(
            customer=customer, by=clerk, data={"received_on": TODAY, "amount": "1500.00", "method": "cash"}
        )
        assert not credit.credit_status(customer).on_hold


class TestManualHold:
    def test_a_finance_manager_sets_and_releases_it(self, customer, finance_manager):
        held = hold(customer, finance_manager, reason="Disputes every invoice")
        status = credit.credit_status(customer)
        assert status.on_hold and status.manual_hold.pk == held.pk
        assert status.manual_hold.set_by == "Fiona Finance"
        assert status.reasons == ("held by Fiona Finance: Disputes every invoice",)
        credit.release_hold(hold=held, by=finance_manager)
        assert not credit.credit_status(customer).on_hold
        assert CreditHold.objects.get().released_by == finance_manager

    def test_it_lapses_after_its_until_day(self, customer, finance_manager):
        hold(customer, finance_manager, until=TODAY)
        assert credit.credit_status(customer, on=TODAY).on_hold
        assert not credit.credit_status(customer, on=TODAY + timedelta(days=1)).on_hold

    def test_a_lapsed_hold_is_closed_when_a_new_one_is_set(self, customer, finance_manager):
        lapsed = CreditHold.objects.create(customer=customer, reason="Old", until=TODAY - timedelta(days=1))
        new = hold(customer, finance_manager, reason="New")
        lapsed.refresh_from_db()
        assert lapsed.released_at is not None and new.released_at is None

    def test_a_second_hold_is_a_conflict(self, customer, finance_manager):
        hold(customer, finance_manager)
        with pytest.raises(credit.CreditError):
            hold(customer, finance_manager, reason="Again")

    def test_releasing_twice_is_a_conflict(self, customer, finance_manager):
        held = hold(customer, finance_manager)
        credit.release_hold(hold=held, by=finance_manager)
        with pytest.raises(credit.CreditError):
            credit.release_hold(hold=held, by=finance_manager)

    @pytest.mark.parametrize(
        ("reason", "until", "field"),
        [("", None, "reason"), ("   ", None, "reason"), ("Late", TODAY - timedelta(days=1), "until")],
    )
    def test_bad_input_is_refused(self, customer, finance_manager, reason, until, field):
        with pytest.raises(ValidationError) as refused:
            hold(customer, finance_manager, reason=reason, until=until)
        assert field in refused.value.message_dict
        assert not CreditHold.objects.exists()

    @pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "outsider"])
    def test_only_finance_managers_set_and_release_holds(self, actors, customer, finance_manager, actor):
        with pytest.raises(PermissionDenied):
            hold(customer, actors[actor])
        held = hold(customer, finance_manager)
        with pytest.raises(PermissionDenied):
            credit.release_hold(hold=held, by=actors[actor])

    def test_setting_and_releasing_go_on_the_customers_feed(self, customer, finance_manager):
        held = hold(customer, finance_manager, reason="Bounced cheque")
        credit.release_hold(hold=held, by=finance_manager)
        on_customer = FeedItem.objects.filter(
            placements__target_type__model="customer", placements__target_id=customer.pk
        )
        assert set(on_customer.values_list("verb", flat=True)) >= {"credit_hold.set", "credit_hold.released"}


class TestWinOnHold:
    def test_winning_for_a_customer_on_hold_is_refused_and_says_how(self, customer, rep, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager, reason="Bounced cheque")
        with pytest.raises(ValidationError) as refused:
            deals.win(opportunity=deal, by=rep)
        message = " ".join(refused.value.messages)
        assert "on credit hold" in message and "Bounced cheque" in message and "Ask for approval" in message
        deal.refresh_from_db()
        assert not deal.stage.is_won

    def test_an_approval_lets_the_deal_be_won_once(self, customer, rep, sales_manager, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        approval = approve(deal, credit.WIN_APPROVAL, rep, sales_manager)
        deals.win(opportunity=deal, by=rep)
        deal.refresh_from_db()
        assert deal.stage.is_won
        release = CreditRelease.objects.get()
        assert (release.approval, release.consumed_by) == (approval, rep)
        assert FeedItem.objects.filter(verb="credit_hold.passed").exists()

    def test_a_used_approval_does_not_let_a_second_one_through(self, customer, rep, sales_manager, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        approve(deal, credit.WIN_APPROVAL, rep, sales_manager)
        credit.check_win(deal, by=rep)  # the first attempt passes and uses the approval
        with pytest.raises(ValidationError):
            credit.check_win(deal, by=rep)
        approve(deal, credit.WIN_APPROVAL, rep, finance_manager)  # a new approval: once more
        credit.check_win(deal, by=rep)
        assert CreditRelease.objects.count() == 2

    def test_an_approval_on_one_deal_does_not_let_another_through(self, customer, rep, sales_manager, finance_manager):
        approved, other = open_deal(customer), open_deal(customer)
        hold(customer, finance_manager)
        approve(approved, credit.WIN_APPROVAL, rep, sales_manager)
        with pytest.raises(ValidationError):
            deals.win(opportunity=other, by=rep)
        assert not CreditRelease.objects.exists()

    def test_a_rejected_or_pending_approval_lets_nothing_through(self, customer, rep, sales_manager, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        asked = collaboration.request_approval(target=deal, kind=credit.WIN_APPROVAL, by=rep)
        with pytest.raises(ValidationError):
            deals.win(opportunity=deal, by=rep)
        decide_approval(approval=asked, by=sales_manager, approve=False, comment="Pay first")
        with pytest.raises(ValidationError):
            deals.win(opportunity=deal, by=rep)

    def test_a_win_refused_for_another_reason_keeps_the_approval(self, customer, rep, sales_manager, finance_manager):
        deal = OpportunityFactory(customer=customer, stage=stage("Proposal"))  # no lines: cannot be won
        hold(customer, finance_manager)
        approve(deal, credit.WIN_APPROVAL, rep, sales_manager)
        with pytest.raises(ValidationError):
            deals.win(opportunity=deal, by=rep)
        assert not CreditRelease.objects.exists()

    def test_off_hold_nothing_is_asked_or_used(self, customer, rep, sales_manager):
        deal = open_deal(customer)
        deals.win(opportunity=deal, by=rep)
        assert not CreditRelease.objects.exists()

    def test_reps_cannot_approve_it(self, customer, rep, other_rep, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        asked = collaboration.request_approval(target=deal, kind=credit.WIN_APPROVAL, by=rep)
        with pytest.raises(PermissionDenied):
            decide_approval(approval=asked, by=other_rep, approve=True)

    def test_an_approval_cannot_be_used_twice_even_if_read_twice(self, customer, rep, sales_manager, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        approval = approve(deal, credit.WIN_APPROVAL, rep, sales_manager)
        CreditRelease.objects.create(approval=approval)
        with pytest.raises(Exception), transaction.atomic():  # the unique approval refuses a second record
            CreditRelease.objects.create(approval=approval)


class TestHistory:
    def test_a_win_or_an_issue_dated_in_the_past_is_history_and_not_held(self, clerk, customer, rep, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        yesterday = TODAY - timedelta(days=1)
        deals.win(opportunity=deal, by=rep, on=yesterday)  # the demo records its past like this
        draft = billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Work", "quantity": "1", "unit_price": "10"}]
        )
        billing.issue_invoice(invoice=draft, by=clerk, on=yesterday, render=False)
        assert not CreditRelease.objects.exists()

    def test_dated_today_it_is_held(self, customer, rep, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        with pytest.raises(ValidationError):
            deals.win(opportunity=deal, by=rep, on=TODAY)


class TestIssueOnHold:
    @pytest.fixture
    def draft(self, clerk, customer):
        return billing.create_invoice(
            by=clerk, customer=customer, data={}, lines=[{"description": "Work", "quantity": "1", "unit_price": "10"}]
        )

    def test_issuing_for_a_customer_on_hold_needs_an_approval_once(self, clerk, draft, customer, finance_manager):
        hold(customer, finance_manager)
        with pytest.raises(ValidationError) as refused:
            billing.issue_invoice(invoice=draft, by=clerk, render=False)
        assert "issue this invoice" in " ".join(refused.value.messages)
        draft.refresh_from_db()
        assert draft.is_draft and not draft.number
        approve(draft, credit.ISSUE_APPROVAL, clerk, finance_manager)
        issued = billing.issue_invoice(invoice=draft, by=clerk, render=False)
        assert issued.status == Invoice.Status.ISSUED
        assert CreditRelease.objects.get().approval.kind == credit.ISSUE_APPROVAL
        with pytest.raises(ValidationError):
            credit.check_issue(issued, by=clerk)

    def test_a_sales_manager_may_approve_it(self, clerk, draft, customer, finance_manager, sales_manager):
        hold(customer, finance_manager)
        approval = approve(draft, credit.ISSUE_APPROVAL, clerk, sales_manager)
        assert approval.status == ApprovalRequest.Status.APPROVED
        billing.issue_invoice(invoice=draft, by=clerk, render=False)

    def test_a_win_approval_does_not_issue_invoices(self, clerk, draft, customer, rep, sales_manager, finance_manager):
        deal = open_deal(customer)
        hold(customer, finance_manager)
        approve(deal, credit.WIN_APPROVAL, rep, sales_manager)
        with pytest.raises(ValidationError):
            billing.issue_invoice(invoice=draft, by=clerk, render=False)


class TestFigures:
    def test_aging_buckets_split_the_open_balance_by_days_past_due(self, customer, issue):
        customer.credit_limit = None
        customer.save(update_fields=["credit_limit"])
        issue("100.00", on=TODAY, days=30)  # current
        issue("200.00", on=TODAY - timedelta(days=40), days=30)  # 10 days past due
        issue("300.00", on=TODAY - timedelta(days=75), days=30)  # 45
        issue("400.00", on=TODAY - timedelta(days=100), days=30)  # 70
        issue("500.00", on=TODAY - timedelta(days=130), days=30)  # 100
        figures = credit.receivables_figures(customer)
        assert [(b["label"], b["amount"]) for b in figures.aging] == [
            ("Current", D("100.00")),
            ("1–30", D("200.00")),
            ("31–60", D("300.00")),
            ("61–90", D("400.00")),
            ("90+", D("500.00")),
        ]
        assert sum(b["amount"] for b in figures.aging) == figures.credit.open_ar
        assert figures.credit.overdue == D("1400.00")

    def test_the_buckets_agree_with_the_aging_report_as_of_today(self, clerk, customer, issue):
        from receivables.aging import customer_aging

        for days_ago, net in ((0, "100.00"), (40, "200.00"), (75, "300.00"), (100, "400.00"), (400, "500.00")):
            issue(net, on=TODAY - timedelta(days=days_ago), days=30)
        services.record_payment(
            customer=customer, by=clerk, data={"received_on": TODAY, "amount": "650.00", "method": "cash"}
        )
        (report,) = customer_aging(customer)
        figures = credit.receivables_figures(customer)
        assert {b["key"]: b["amount"] for b in figures.aging} == {
            key: value for key, value in report.items() if key not in ("currency", "total")
        } | {}
        assert figures.credit.open_ar == report["total"]

    def test_a_due_date_of_today_is_current_and_yesterday_is_overdue(self, customer, issue):
        issue("10.00", on=TODAY, days=0)
        issue("20.00", on=TODAY - timedelta(days=1), days=0)
        figures = credit.receivables_figures(customer)
        assert [b["amount"] for b in figures.aging[:2]] == [D("10.00"), D("20.00")]

    def test_the_verdict_says_it_plainly(self, customer, issue):
        from receivables.models import Standing

        Standing.objects.create(customer=customer, avg_days_late=D("17.6"), dso=D("48.0"))
        issue("4200.00", on=TODAY - timedelta(days=45), days=30)
        customer.credit_limit = D("5500.00")
        customer.save(update_fields=["credit_limit"])
        figures = credit.receivables_figures(customer)
        assert figures.verdict == "Pays ~18 days late; 4,200.00 overdue; 1,300.00 of credit left"

    def test_without_history_it_says_so(self, customer):
        figures = credit.receivables_figures(customer)
        assert (figures.avg_days_late, figures.dso) == (None, None)
        assert figures.verdict == "No payment history yet; nothing overdue; 10,000.00 of credit left"

    def test_over_the_limit_it_says_by_how_much(self, customer, recent):
        recent("10250.00")
        assert credit.receivables_figures(customer).verdict.endswith("250.00 over the credit limit")

    @pytest.mark.parametrize(
        ("trend", "direction"),
        [
            ([], None),
            (
                [{"month": "2026-07", "avg_days_late": "10.0"}, {"month": "2026-08", "avg_days_late": "25.5"}],
                "getting later",
            ),
            ([{"avg_days_late": "30"}, {"avg_days_late": None}, {"avg_days_late": "12"}], "improving"),
            ([{"avg_days_late": "5"}, {"avg_days_late": "6"}], "steady"),
            ([{"avg_days_late": None}], None),
        ],
    )
    def test_the_lateness_trend_reads_the_cached_months(self, trend, direction):
        figures = credit.ReceivablesFigures(
            credit=credit.CreditStatus(currency="EUR", exposure=D(0), limit=None, left=None, on_hold=False),
            trend=trend,
        )
        assert figures.lateness_trend == direction

    def test_it_costs_one_query(self, customer, finance_manager, issue, django_assert_num_queries):
        issue("100.00", on=date(2026, 1, 1))
        won_deal(customer, "50.00")
        hold(customer, finance_manager)
        with django_assert_num_queries(1):
            figures = credit.receivables_figures(customer)
        assert figures.credit.on_hold
