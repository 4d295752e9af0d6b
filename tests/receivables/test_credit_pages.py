"""Credit control in the browser's pages: the payment-risk card first on the deal and
quote pages, the customer 360's receivables panel and its badge, the hold's warning
before anyone tries to win or issue, and setting and releasing a manual hold."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import collaboration
from billing import services as billing
from collaboration.models import ApprovalRequest
from collaboration.services import decide_approval
from crm.models import Quote
from receivables import credit
from receivables.models import CreditHold, Standing
from tests.crm.test_customer_360 import add_history
from tests.factories import CustomerFactory, OpportunityFactory, OpportunityLineFactory, stage
from tests.html import parse

D = Decimal
TODAY = timezone.localdate()
MAX_QUERIES = 15
pytestmark = pytest.mark.django_db


def customer_url(customer):
    return reverse("crm:customer_detail", args=[customer.pk])


def deal_url(deal):
    return reverse("crm:opportunity_detail", args=[deal.pk])


@pytest.fixture
def deal(customer):
    deal = OpportunityFactory(customer=customer, stage=stage("Proposal"), amount=D("500.00"), name="Big deal")
    OpportunityLineFactory(opportunity=deal, unit_price=D("500.00"))
    return deal


@pytest.fixture
def held(customer, finance_manager):
    return credit.set_hold(customer=customer, by=finance_manager, reason="Cheque bounced")


class TestRiskCard:
    def test_it_is_the_first_thing_on_the_deal_page(self, signed_in, customer, deal, issue):
        Standing.objects.create(customer=customer, avg_days_late=D("18.0"), dso=D("52.5"))
        issue("4200.00", on=TODAY - timedelta(days=45), days=30)
        response = signed_in("rep").get(deal_url(deal))
        html = response.text
        assert html.index('id="risk-card"') < html.index('id="lines-panel"')
        card = parse(html).by_id("risk-card")
        assert card.find(id="risk-verdict").text == "Pays ~18 days late; 4,200.00 overdue; 5,800.00 of credit left."
        assert "4,200.00" in card.find(id="risk-overdue").text
        assert card.find(id="risk-days-late").text == "18.0"
        assert card.find(id="risk-holds").text == "None"

    def test_it_shows_the_open_disputes_and_what_they_dispute(self, signed_in, customer, deal, issue, clerk):
        from receivables import dunning

        card = parse(signed_in("rep").get(deal_url(deal)).text).by_id("risk-card")
        assert card.find(id="risk-disputes").text == "None"
        first, second = issue("1000.00"), issue("500.00")
        dunning.open_dispute(invoice=first, by=clerk, amount=D("300.00"), reason="Damaged")
        resolved = dunning.open_dispute(invoice=second, by=clerk, amount=D("50.00"), reason="Late")
        dunning.resolve_dispute(dispute=resolved, by=clerk, outcome="rejected", note="Delivered on time")
        facts = parse(signed_in("rep").get(deal_url(deal)).text).by_id("risk-disputes")
        assert facts.find(tag="a").text == "1" and "300.00" in facts.text  # the resolved one is not open
        assert facts.find(tag="a").attrs["href"].endswith(f"?customer={customer.pk}&status=open")

    def test_unknown_behaviour_shows_a_dash(self, signed_in, deal):
        card = parse(signed_in("rep").get(deal_url(deal)).text).by_id("risk-card")
        assert card.find(id="risk-days-late").text == "—"
        assert card.find(id="risk-dso").text == "—"

    @pytest.mark.parametrize(("actor", "shown"), [("rep", True), ("sales_manager", True), ("other_rep", False)])
    def test_sales_see_it_for_their_customers(self, signed_in, deal, actor, shown):
        response = signed_in(actor).get(deal_url(deal))
        assert response.status_code == 200
        assert ('id="risk-card"' in response.text) is shown

    def test_it_is_on_the_quote_page(self, signed_in, customer, deal):
        quote = Quote.objects.create(
            opportunity=deal,
            customer=customer,
            number="Q-2026-0001",
            issue_date=TODAY,
            valid_until=TODAY + timedelta(days=30),
            currency="EUR",
            payment_terms=deal.payment_terms,
            payment_days=deal.payment_days,
            created_by=customer.owner,
        )
        response = signed_in("rep").get(quote.get_absolute_url())
        assert 'id="risk-card"' in response.text
        assert response.text.index('id="risk-card"') < response.text.index('id="quote-lines"')


class TestHoldOnTheDealPage:
    def test_it_says_so_before_anyone_tries_and_offers_to_ask(self, signed_in, deal, held):
        page = parse(signed_in("rep").get(deal_url(deal)).text)
        gate = page.by_id("credit-hold-gate")
        assert "Cheque bounced" in gate.find(id="credit-hold-reasons").text
        assert "To win this deal" in gate.find(id="credit-hold-needs-approval").text
        form = gate.find(id="credit-hold-ask-form")
        assert form.find(tag="input", name="kind").attrs["value"] == credit.WIN_APPROVAL
        assert page.by_id("risk-hold-badge").text == "Credit hold"

    def test_asking_pending_approved_and_used(self, client, signed_in, rep, sales_manager, deal, held):
        rep_client = signed_in("rep")
        response = rep_client.post(
            reverse("collaboration:approval_request"),
            {"on": f"crm.opportunity:{deal.pk}", "kind": credit.WIN_APPROVAL, "reason": "Paid today"},
        )
        assert response.status_code == 302
        page = parse(rep_client.get(deal_url(deal)).text)
        assert "waiting for a sales or finance manager" in page.by_id("credit-hold-pending").text
        assert not page.find_all(id="credit-hold-ask-form")
        decide_approval(approval=ApprovalRequest.objects.get(), by=sales_manager, approve=True)
        page = parse(rep_client.get(deal_url(deal)).text)
        assert "Sam Manager" in page.by_id("credit-hold-approved").text
        won = stage("Won")
        response = rep_client.post(reverse("crm:opportunity_move", args=[deal.pk]), {"stage": won.pk}, follow=True)
        deal.refresh_from_db()
        assert deal.stage == won
        page = parse(response.text)  # a won deal still shows the hold, with nothing left to ask
        assert not page.find_all(id="credit-hold-ask-form") and not page.find_all(id="credit-hold-approved")

    def test_the_refusal_says_how(self, signed_in, deal, held):
        response = signed_in("rep").post(
            reverse("crm:opportunity_move", args=[deal.pk]), {"stage": stage("Won").pk}, follow=True
        )
        assert "on credit hold" in response.text and "Ask for approval" in response.text
        deal.refresh_from_db()
        assert not deal.stage.is_won


class TestHoldOnTheInvoicePage:
    def test_a_draft_says_so_and_offers_to_ask(self, signed_in, clerk, customer, held):
        draft = billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Work", "quantity": "1", "unit_price": "10"}]
        )
        page = parse(signed_in("clerk").get(draft.get_absolute_url()).text)
        gate = page.by_id("credit-hold-gate")
        assert "To issue this invoice" in gate.text
        assert gate.find(tag="input", name="kind").attrs["value"] == credit.ISSUE_APPROVAL

    def test_an_issued_invoice_or_a_customer_off_hold_shows_nothing(self, signed_in, clerk, customer, issue):
        invoice = issue("10.00", on=TODAY)
        assert 'id="credit-hold-gate"' not in signed_in("clerk").get(invoice.get_absolute_url()).text


class TestReceivablesPanel:
    def test_it_shows_balance_aging_behaviour_credit_and_holds(self, signed_in, customer, issue, finance_manager):
        issue("300.00", on=TODAY, days=30)
        issue("700.00", on=TODAY - timedelta(days=45), days=30)
        credit.set_hold(customer=customer, by=finance_manager, reason="Cheque bounced")
        page = parse(signed_in("rep").get(customer_url(customer)).text)
        panel = page.by_id("receivables-panel")
        assert "1,000.00" in panel.find(id="receivables-balance").text
        assert "700.00" in panel.find(id="receivables-overdue").text
        assert "Current: 300.00" in panel.find(id="receivables-aging").text
        assert "1–30: 700.00" in panel.find(id="receivables-aging").text
        assert panel.find(id="receivables-aging-bar").find_all(tag="rect")
        assert "9,000.00 EUR left" in panel.find(id="receivables-credit").text
        assert "Cheque bounced" in panel.find(id="receivables-hold-reasons").text
        badges = page.by_id("record-badges").text
        assert "Credit hold" in badges

    def test_reps_see_only_their_own_customers_standing(self, signed_in, customer):
        response = signed_in("other_rep").get(customer_url(customer))
        assert 'id="receivables-panel"' not in response.text

    def test_only_finance_managers_get_the_hold_form(self, signed_in, customer):
        assert 'id="set-hold-form"' in signed_in("finance_manager").get(customer_url(customer)).text
        assert 'id="set-hold-form"' not in signed_in("clerk").get(customer_url(customer)).text
        assert 'id="set-hold-form"' not in signed_in("rep").get(customer_url(customer)).text


class TestSetAndRelease:
    def test_a_finance_manager_sets_and_releases_a_hold(self, signed_in, customer):
        client = signed_in("finance_manager")
        response = client.post(
            reverse("receivables:credit_hold_set", args=[customer.pk]),
            {"reason": "Bounced", "until": (TODAY + timedelta(days=7)).isoformat()},
        )
        assert response.status_code == 302 and response["Location"].endswith("#receivables-panel")
        hold = CreditHold.objects.get()
        assert (hold.reason, hold.until) == ("Bounced", TODAY + timedelta(days=7))
        page = parse(client.get(customer_url(customer)).text)
        assert page.find_all(id="release-hold-form")
        client.post(reverse("receivables:credit_hold_release", args=[hold.pk]))
        hold.refresh_from_db()
        assert hold.released_at is not None

    @pytest.mark.parametrize(
        "data", [{"reason": ""}, {"reason": "x" * 300}, {"reason": "ok", "until": "2026-02-30"}, {"reason": "\u202e"}]
    )
    def test_bad_input_sets_nothing_and_says_why(self, signed_in, customer, data):
        response = signed_in("finance_manager").post(
            reverse("receivables:credit_hold_set", args=[customer.pk]), data, follow=True
        )
        assert response.status_code == 200 and "The hold was not set." in response.text
        assert not CreditHold.objects.exists()

    def test_a_second_hold_is_refused_with_a_message(self, signed_in, customer, held):
        response = signed_in("finance_manager").post(
            reverse("receivables:credit_hold_set", args=[customer.pk]), {"reason": "Again"}, follow=True
        )
        assert "on a manual credit hold already" in response.text
        assert CreditHold.objects.count() == 1

    @pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "outsider"])
    def test_others_may_not(self, signed_in, customer, held, actor):
        client = signed_in(actor)
        assert client.post(reverse("receivables:credit_hold_set", args=[customer.pk]), {"reason": "x"}).status_code in (
            403,
            404,
        )
        assert client.post(reverse("receivables:credit_hold_release", args=[held.pk])).status_code in (403, 404)
        held.refresh_from_db()
        assert held.released_at is None

    def test_unknown_records_are_404(self, signed_in):
        client = signed_in("finance_manager")
        assert client.post(reverse("receivables:credit_hold_set", args=[999999]), {"reason": "x"}).status_code == 404
        assert client.post(reverse("receivables:credit_hold_release", args=[999999])).status_code == 404


def add_receivables_history(customer, clerk, finance_manager, scale: int):
    """`scale` × invoices current and overdue, and won deals. (Payments would put a link to
    their page in the feed, which the payments pages bring; the unapplied credit is one
    scalar subquery of the same figures query whatever it finds.)"""
    for n in range(scale):
        for days_ago, net in ((0, "100.00"), (45, "200.00"), (100, "300.00")):
            draft = billing.create_invoice(
                by=clerk,
                customer=customer,
                data={"payment_days": 30},
                lines=[{"description": f"Work {n}", "quantity": "1", "unit_price": net}],
            )
            billing.issue_invoice(invoice=draft, by=clerk, on=TODAY - timedelta(days=days_ago), render=False)
        deal = OpportunityFactory(customer=customer, stage=stage("Won"), closed_on=TODAY, amount=D("999.00"))
        OpportunityLineFactory(opportunity=deal, unit_price=D("999.00"))


def count_queries(client, url) -> int:
    client.get(url)  # warm: the session user, permissions and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestQueryCounts:
    @pytest.mark.parametrize("actor", ["rep", "finance_manager"])
    def test_the_360_costs_the_same_for_1x_and_10x_history_within_15(
        self, settings, signed_in, customer, clerk, finance_manager, actor
    ):
        # Only the manual hold holds: issuing the history needs no approvals.
        settings.RECEIVABLES = {**settings.RECEIVABLES, "HOLD_OVERDUE_AMOUNT": "1000000.00"}
        customer.credit_limit = D("1000000.00")
        customer.save(update_fields=["credit_limit"])
        client = signed_in(actor)
        add_history(customer, 1)
        add_receivables_history(customer, clerk, finance_manager, 1)
        hold = credit.set_hold(customer=customer, by=finance_manager, reason="Watch")
        one = count_queries(client, customer_url(customer))
        credit.release_hold(hold=hold, by=finance_manager)
        add_history(customer, 9, start=1)
        add_receivables_history(customer, clerk, finance_manager, 9)
        credit.set_hold(customer=customer, by=finance_manager, reason="Watch again")
        ten = count_queries(client, customer_url(customer))
        # receivables: 1 of its own (its figures); billing's invoices and the feed come after load
        assert one == ten == 6 <= MAX_QUERIES

    def test_the_hold_costs_the_deal_page_two_queries_more(self, signed_in, customer, deal, held):
        client = signed_in("rep")
        with_card = count_queries(client, deal_url(deal))
        other = OpportunityFactory(customer=CustomerFactory(owner=customer.owner, credit_limit=None), amount=D("1"))
        OpportunityLineFactory(opportunity=other)
        off_hold = count_queries(client, deal_url(other))
        assert with_card - off_hold == 2  # the deal's approvals, and whether the user may ask (on hold only)


def test_the_approval_kinds_are_offered_on_deals_and_invoices():
    from billing.models import Invoice
    from collaboration.registry import approval_kinds_for
    from crm.models import Opportunity

    assert credit.WIN_APPROVAL in [kind.key for kind in approval_kinds_for(Opportunity)]
    assert credit.ISSUE_APPROVAL in [kind.key for kind in approval_kinds_for(Invoice)]
    assert collaboration  # the public services used above
