"""Dunning's pages: the collections worklist (filters, inline actions, a pinned query
count), the runs (effectiveness, preview, the run with its progress, a notice as sent),
the customer 360's Collections panel and the rep's home page card — each as clerk, rep,
finance manager and outsider, and each form with the issue's bad input."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice
from core.cache import bump_generation
from receivables import dunning, services
from receivables.models import CollectionTask, Dispute, DunningHold, DunningNotice, DunningRun, PaymentPromise
from tests.factories import CustomerFactory, OpportunityFactory, stage
from tests.html import parse

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date.today()
WORKLIST = reverse("receivables:collections")
RUNS = reverse("receivables:dunning_run_list")
NEW_RUN = reverse("receivables:dunning_run_new")
START = reverse("receivables:dunning_run_start")
# session, user, filters' owners, the page's customers (count, rows), their figures, invoices,
# levels sent, last notices, open calls, holds (5), the policies (2)
WORKLIST_QUERIES = 18


def overdue(issue, net, days_overdue, **kwargs):
    """An invoice `days_overdue` days past its due date today (30 days to pay)."""
    return issue(net, on=TODAY - timedelta(days=30 + days_overdue), **kwargs)


@pytest.fixture
def run(clerk, django_capture_on_commit_callbacks):
    def start(as_of=TODAY):
        with django_capture_on_commit_callbacks(execute=True):
            made = dunning.run_dunning(as_of=as_of, by=clerk)
        made.refresh_from_db()
        return made

    return start


def collections_panel_url(customer):
    """The 360's Collections panel: a lazy panel, asked for after the page (crm.panels)."""
    return reverse("crm:customer_panel", args=[customer.pk, "collections"])


def customer_url(customer):
    return reverse("crm:customer_detail", args=[customer.pk])


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor, status",
    [("clerk", 200), ("finance_manager", 200), ("sales_manager", 200), ("rep", 403), ("outsider", 403)],
)
def test_the_worklist_and_the_runs_are_for_finance(signed_in, actor, status):
    client = signed_in(actor)
    assert client.get(WORKLIST).status_code == status
    assert client.get(RUNS).status_code == status


@pytest.mark.parametrize(
    "actor, status", [("clerk", 200), ("finance_manager", 200), ("sales_manager", 403), ("rep", 403)]
)
def test_only_who_runs_dunning_previews_a_run(signed_in, actor, status):
    assert signed_in(actor).get(NEW_RUN, {"as_of": TODAY.isoformat()}).status_code == status


def test_a_rep_may_not_start_a_run_or_hold_reminders(signed_in, customer):
    client = signed_in("rep")
    assert client.post(START, {"as_of": TODAY.isoformat()}).status_code == 403
    url = reverse("receivables:dunning_hold_set", args=[customer.pk])
    assert client.post(url, {"reason": "Waiting"}).status_code == 403
    assert not DunningRun.objects.exists() and not DunningHold.objects.exists()


# --- the worklist --------------------------------------------------------------------------


class TestWorklist:
    def test_the_largest_amount_times_days_overdue_comes_first(self, signed_in, issue, customer, other_rep):
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        overdue(issue, "1000.00", 5)  # weight 5,000
        overdue(issue, "300.00", 40, who=globex)  # weight 12,000
        response = signed_in("clerk").get(WORKLIST)
        names = [row["row"].customer.name for row in response.context["rows"]]
        assert names == ["Globex Corp", "Acme Industries GmbH"]
        page = parse(response.text)
        row = page.by_id(f"worklist-row-{customer.pk}")
        assert (
            "1,000.00" in row.text
            and "Rita Rep" in row.text
            and "days late" in row.text.lower()
            or "overdue" in row.text
        )

    def test_it_shows_the_hold_the_promise_and_the_next_level(self, signed_in, issue, customer, clerk):
        overdue(issue, "500.00", 10)
        OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
        dunning.take_promise(customer=customer, by=clerk, amount="100.00", promised_for=TODAY + timedelta(days=5))
        response = signed_in("clerk").get(WORKLIST)
        row = parse(response.text).by_id(f"worklist-row-{customer.pk}")
        assert "Renewal 2027" in row.text and "promised" in row.text
        item = response.context["rows"][0]["row"]
        assert item.next_on == TODAY  # the +3 reminder's day has come; the next run would send it
        assert item.next_level == dunning.get_default_policy().levels.get(days_after_due=3).name

    def test_a_rows_actions_are_asked_for_when_first_opened(self, signed_in, issue, customer, clerk):
        invoice = overdue(issue, "500.00", 10)
        client = signed_in("clerk")
        row = parse(client.get(WORKLIST).text).by_id(f"worklist-row-{customer.pk}")
        details = row.find(tag="details")
        url = reverse("receivables:collection_actions", args=[customer.pk])
        assert details.attrs["hx-get"] == url and details.attrs["hx-trigger"] == "toggle once"
        assert not row.find_all(tag="form")  # none of the five forms in the page itself
        actions = parse(client.get(url, HTTP_HX_REQUEST="true").text)
        promise = actions.find(tag="form", action=reverse("receivables:promise_take", args=[customer.pk]))
        assert promise.find(tag="input", name="_from").attrs["value"] == "worklist"
        dispute = actions.find(tag="form", action=reverse("receivables:dispute_open", args=[customer.pk]))
        assert invoice.number in dispute.find(tag="select").text
        assert signed_in("rep").get(url).status_code == 403
        data = {"received_on": TODAY, "amount": invoice.total, "method": "bank_transfer"}
        services.record_payment(customer=customer, by=clerk, data=data)
        assert "nothing is overdue any more" in signed_in("clerk").get(url).text

    def test_filters_by_owner_and_bucket(self, signed_in, issue, customer, other_rep):
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        overdue(issue, "100.00", 5)
        overdue(issue, "100.00", 45, who=globex)
        client = signed_in("clerk")
        by_owner = client.get(WORKLIST, {"owner": other_rep.pk}).context["rows"]
        assert [row["row"].customer.pk for row in by_owner] == [globex.pk]
        by_bucket = client.get(WORKLIST, {"bucket": "days_1_30"}).context["rows"]
        assert [row["row"].customer.pk for row in by_bucket] == [customer.pk]

    def test_a_bad_filter_is_an_error_on_the_filter_not_a_500(self, signed_in):
        response = signed_in("clerk").get(WORKLIST, {"owner": "nobody", "bucket": "x"})
        assert response.status_code == 400
        assert parse(response.text).by_id("id_owner_error")

    def test_its_query_count_does_not_grow_with_rows(self, signed_in, issue, clerk, rep, django_assert_max_num_queries):
        client = signed_in("clerk")
        first = CustomerFactory(owner=rep)
        overdue(issue, "100.00", 5, who=first)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.get(WORKLIST)  # the default policy is made on the first read
        bump_generation(Invoice)  # the ranking is kept until an invoice changes: count it read afresh
        with CaptureQueriesContext(connection) as one:
            client.get(WORKLIST)
        for n in range(8):
            customer = CustomerFactory(owner=rep)
            overdue(issue, f"{100 + n}.00", 5 + n, who=customer)
            dunning.set_dunning_hold(customer=customer, by=clerk, reason=f"Hold {n}")
        with CaptureQueriesContext(connection) as nine:  # the invoices changed: read afresh
            response = client.get(WORKLIST)
        assert len(response.context["rows"]) == 9
        assert len(nine) == len(one) <= WORKLIST_QUERIES
        with CaptureQueriesContext(connection) as kept:
            client.get(WORKLIST)
        assert len(kept) == len(nine) - 1  # the ranking and its count came from the cache

    def test_the_kept_ranking_follows_a_payment_and_an_owner_change(self, signed_in, issue, customer, clerk, other_rep):
        globex = CustomerFactory(name="Globex Corp")
        overdue(issue, "1000.00", 5)
        invoice = overdue(issue, "300.00", 40, who=globex)
        client = signed_in("clerk")
        ranked = lambda **params: [row["row"].customer.pk for row in client.get(WORKLIST, params).context["rows"]]  # noqa: E731
        assert ranked() == [globex.pk, customer.pk]
        data = {"received_on": TODAY, "amount": invoice.total, "method": "bank_transfer"}
        services.record_payment(customer=globex, by=clerk, data=data)
        assert ranked() == [customer.pk]  # paid: gone at once, not when the cache expires
        assert ranked(owner=other_rep.pk) == []
        customer.owner = other_rep
        customer.save(update_fields=["owner"])
        assert ranked(owner=other_rep.pk) == [customer.pk]

    def test_a_hold_from_the_row_answers_with_the_row(self, signed_in, issue, customer):
        overdue(issue, "100.00", 5)
        url = reverse("receivables:dunning_hold_set", args=[customer.pk])
        response = signed_in("clerk").post(
            url, {"reason": "Waiting for the PO", "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        row = parse(response.text).by_id(f"worklist-row-{customer.pk}")
        assert "Waiting for the PO" in row.text and "Reminders are held" in row.text
        assert DunningHold.objects.get().set_by.username == "clerk"

    def test_a_hold_without_a_reason_is_refused_in_the_row(self, signed_in, issue, customer):
        overdue(issue, "100.00", 5)
        url = reverse("receivables:dunning_hold_set", args=[customer.pk])
        response = signed_in("clerk").post(url, {"reason": " ", "_from": "worklist"}, HTTP_HX_REQUEST="true")
        assert "Say why reminders are held." in parse(response.text).by_id(f"worklist-row-{customer.pk}").text
        assert not DunningHold.objects.exists()

    def test_a_promise_in_the_past_or_above_the_balance_is_refused(self, signed_in, issue, customer):
        overdue(issue, "100.00", 5)
        url = reverse("receivables:promise_take", args=[customer.pk])
        client = signed_in("clerk")
        past = client.post(
            url,
            {"amount": "50", "promised_for": (TODAY - timedelta(days=1)).isoformat(), "_from": "worklist"},
            HTTP_HX_REQUEST="true",
        )
        assert "not the past" in past.text
        above = client.post(
            url, {"amount": "500", "promised_for": TODAY.isoformat(), "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        assert "cannot be larger" in above.text
        garbage = client.post(
            url, {"amount": "lots", "promised_for": "soon", "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        assert garbage.status_code == 200 and "Enter a number" in garbage.text
        assert not PaymentPromise.objects.exists()

    def test_a_dispute_larger_than_the_invoice_is_refused(self, signed_in, issue, customer):
        invoice = overdue(issue, "100.00", 5)
        url = reverse("receivables:dispute_open", args=[customer.pk])
        response = signed_in("clerk").post(
            url,
            {"invoice": invoice.pk, "amount": "150", "reason": "Wrong", "_from": "worklist"},
            HTTP_HX_REQUEST="true",
        )
        assert "cannot be larger than that" in response.text
        missing = signed_in("clerk").post(
            url, {"amount": "10", "reason": "Wrong", "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        assert "Choose the invoice the customer disputes." in missing.text
        assert not Dispute.objects.exists()

    def test_send_now_reminds_this_customer_only(
        self, signed_in, issue, customer, other_rep, django_capture_on_commit_callbacks
    ):
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        overdue(issue, "100.00", 5)
        overdue(issue, "100.00", 5, who=globex)
        url = reverse("receivables:dunning_send_now", args=[customer.pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in("clerk").post(url, {"_from": "worklist"}, HTTP_HX_REQUEST="true")
        assert "is on its way" in response.text
        assert list(DunningNotice.objects.values_list("customer_id", "status")) == [(customer.pk, "sent")]
        run = DunningRun.objects.get()
        assert run.status == DunningRun.Status.DONE and run.totals["customers"] == [customer.pk]
        again = signed_in("clerk").post(url, {"_from": "worklist"}, HTTP_HX_REQUEST="true")
        assert "Nothing was sent" in again.text and DunningRun.objects.count() == 1
        assert signed_in("rep").post(url).status_code == 403

    def test_send_now_says_why_a_held_customer_is_not_reminded(self, signed_in, issue, customer, clerk):
        overdue(issue, "100.00", 5)
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday")
        url = reverse("receivables:dunning_send_now", args=[customer.pk])
        response = signed_in("clerk").post(url, {"_from": "worklist"}, HTTP_HX_REQUEST="true")
        assert "Nothing was sent" in response.text and "CFO on holiday" in response.text
        assert not DunningRun.objects.exists()

    def test_another_customers_invoice_cannot_be_disputed_here(self, signed_in, issue, customer, other_rep):
        globex = CustomerFactory(owner=other_rep)
        theirs = overdue(issue, "100.00", 5, who=globex)
        overdue(issue, "100.00", 5)
        url = reverse("receivables:dispute_open", args=[customer.pk])
        response = signed_in("clerk").post(
            url, {"invoice": theirs.pk, "amount": "10", "reason": "Wrong", "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        assert "valid choice" in response.text and not Dispute.objects.exists()


# --- runs ----------------------------------------------------------------------------------


class TestRuns:
    def test_the_preview_shows_who_is_skipped_because_of_a_late_stage_deal(self, signed_in, issue, customer, other_rep):
        overdue(issue, "100.00", 5)
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        overdue(issue, "200.00", 5, who=globex)
        OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
        page = parse(signed_in("clerk").get(NEW_RUN, {"as_of": TODAY.isoformat()}).text)
        held = page.by_id(f"preview-customer-{customer.pk}")
        assert "late-stage deal" in held.text and "Renewal 2027" in held.text
        assert "Globex" in page.by_id(f"preview-customer-{globex.pk}").text
        assert page.by_id("run-button")

    def test_a_future_day_is_refused_on_the_form(self, signed_in):
        response = signed_in("clerk").get(NEW_RUN, {"as_of": (TODAY + timedelta(days=1)).isoformat()})
        assert response.status_code == 400 and "never a future one" in response.text
        bad = signed_in("clerk").get(NEW_RUN, {"as_of": "yesterday"})
        assert bad.status_code == 400 and "Enter a date" in bad.text

    def test_running_shows_the_run_and_its_summary(
        self, signed_in, issue, customer, django_capture_on_commit_callbacks
    ):
        overdue(issue, "100.00", 5)
        client = signed_in("clerk")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(START, {"as_of": TODAY.isoformat()})
        run = DunningRun.objects.get()
        assert response.status_code == 302 and response.url == reverse("receivables:dunning_run_detail", args=[run.pk])
        page = parse(client.get(response.url).text)
        assert page.by_id("summary-sent").text.strip() == "1"
        notice = DunningNotice.objects.get()
        assert page.by_id("run-notices").find("a").attrs["href"] == reverse(
            "receivables:dunning_notice_detail", args=[notice.pk]
        )

    def test_a_running_run_polls_its_progress_and_stops_when_done(self, signed_in, issue, customer, clerk):
        overdue(issue, "100.00", 5)
        run = dunning.run_dunning(as_of=TODAY, by=clerk)  # its batches never ran (no commit)
        client = signed_in("clerk")
        section = parse(client.get(reverse("receivables:dunning_run_detail", args=[run.pk])).text).by_id("run-progress")
        assert section.attrs["hx-trigger"] == "every 1s"
        DunningRun.objects.filter(pk=run.pk).update(status=DunningRun.Status.DONE, progress_done=1)
        partial = client.get(reverse("receivables:dunning_run_progress", args=[run.pk]), {"shown": "running"})
        section = parse(partial.text).by_id("run-progress")
        assert "hx-trigger" not in section.attrs and section.attrs["data-status"] == "done"

    def test_a_second_run_while_one_runs_is_refused_with_a_message(self, signed_in, issue, customer, clerk):
        overdue(issue, "100.00", 5)
        dunning.run_dunning(as_of=TODAY, by=clerk)
        client = signed_in("clerk")
        response = client.post(START, {"as_of": TODAY.isoformat()}, follow=True)
        assert "is in progress" in response.text and DunningRun.objects.count() == 1

    def test_a_notice_is_shown_as_sent(self, signed_in, issue, customer, run):
        invoice = overdue(issue, "100.00", 5)
        run()
        notice = DunningNotice.objects.get()
        page = parse(signed_in("clerk").get(reverse("receivables:dunning_notice_detail", args=[notice.pk])).text)
        assert page.by_id("notice-subject").text.strip() == notice.subject
        assert invoice.number in page.by_id("notice-body").text and invoice.number in page.by_id("notice-lines").text
        assert signed_in("rep").get(reverse("receivables:dunning_notice_detail", args=[notice.pk])).status_code == 403

    def test_the_runs_page_shows_effectiveness(self, signed_in, issue, customer, run, clerk):
        invoice = overdue(issue, "100.00", 5)
        made = run(TODAY - timedelta(days=3))
        services.record_payment(
            customer=customer,
            by=clerk,
            data={"received_on": TODAY, "amount": "100.00"},
            allocations=[(invoice, D("100.00"))],
        )
        page = parse(signed_in("clerk").get(RUNS).text)
        assert "100%" in page.by_id("paid-after-first").text
        assert "100.00 of 100.00" in page.by_id("dunning-runs").text
        assert made.notices_sent == 1


class TestEffectiveness:
    def test_only_what_is_paid_within_14_days_counts_capped_at_the_balance(self, issue, customer, clerk, run, rep):
        first = overdue(issue, "100.00", 20)
        second = overdue(issue, "300.00", 20)
        other = CustomerFactory(owner=rep)
        overdue(issue, "50.00", 20, who=other)
        made = run(TODAY - timedelta(days=20))
        pay = lambda invoice, amount, when: services.record_payment(  # noqa: E731
            customer=invoice.customer,
            by=clerk,
            data={"received_on": when, "amount": amount},
            allocations=[(invoice, D(amount))],
        )
        pay(first, "100.00", TODAY - timedelta(days=10))  # within 14 days
        pay(second, "300.00", TODAY)  # 20 days later: not counted
        figures = dunning.dunning_effectiveness()
        (level,) = figures.per_run[made.pk]
        assert level.reminded == D("450.00") and level.collected == D("100.00") and level.percent == 22
        assert figures.first_reminded == 2 and figures.paid_after_first == 1
        assert list(figures.per_month) == [f"{made.as_of:%Y-%m}"]

    def test_nothing_sent_is_nothing_to_show(self, db):
        figures = dunning.dunning_effectiveness()
        assert figures.per_run == {} and figures.paid_after_first_percent is None


# --- the customer 360 and the home page --------------------------------------------------------


class TestCollectionsPanel:
    def test_it_shows_holds_with_their_reasons_and_the_forms_finance_may_use(self, signed_in, issue, customer, clerk):
        invoice = overdue(issue, "500.00", 10)
        OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
        dunning.open_dispute(invoice=invoice, by=clerk, amount="50.00", reason="Two items missing")
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday")
        page = parse(signed_in("clerk").get(collections_panel_url(customer)).text)
        panel = page.by_id("collections-holds")
        assert "Renewal 2027" in panel.text and "Two items missing" in panel.text and "CFO on holiday" in panel.text
        assert (
            page.by_id("collections-hold") and page.by_id("collections-promise") and page.by_id("collections-dispute")
        )

    def test_a_rep_sees_the_holds_and_may_only_open_a_dispute(self, signed_in, issue, customer, clerk):
        overdue(issue, "500.00", 10)
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday")
        page = parse(signed_in("rep").get(collections_panel_url(customer)).text)
        assert "CFO on holiday" in page.by_id("collections-holds").text
        assert page.by_id("collections-dispute")
        assert not page.find_all(id="collections-hold") and not page.find_all(id="collections-promise")

    def test_a_rep_reads_the_last_notices_without_links_to_pages_they_may_not_open(
        self, signed_in, issue, customer, run
    ):
        overdue(issue, "500.00", 5)
        run()
        notice = DunningNotice.objects.get()
        notice_url = reverse("receivables:dunning_notice_detail", args=[notice.pk])
        rep_panel = parse(signed_in("rep").get(collections_panel_url(customer)).text).by_id("collections-notices")
        assert notice.level.name in rep_panel.text and not rep_panel.find_all("a")
        clerk_panel = parse(signed_in("clerk").get(collections_panel_url(customer)).text).by_id("collections-notices")
        assert clerk_panel.find("a").attrs["href"] == notice_url

    def test_a_dispute_from_the_panel_goes_back_with_a_message(self, signed_in, issue, customer):
        invoice = overdue(issue, "500.00", 10)
        client = signed_in("rep")
        url = reverse("receivables:dispute_open", args=[customer.pk])
        back = customer_url(customer) + "#collections-panel"
        response = client.post(url, {"invoice": invoice.pk, "amount": "50", "reason": "Damaged", "next": back})
        assert response.status_code == 302 and response.url == back
        assert Dispute.objects.get().opened_by.username == "rep"
        too_much = client.post(
            url, {"invoice": invoice.pk, "amount": "900", "reason": "All", "next": back}, follow=True
        )
        assert "cannot be larger" in too_much.text

    def test_a_manual_hold_is_released_from_the_panel(self, signed_in, customer, clerk):
        hold = dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday")
        url = reverse("receivables:dunning_hold_release", args=[hold.pk])
        assert signed_in("rep").post(url).status_code == 403
        signed_in("clerk").post(url)
        hold.refresh_from_db()
        assert hold.released_by.username == "clerk"

    def test_a_foreign_next_is_not_followed(self, signed_in, customer):
        url = reverse("receivables:dunning_hold_set", args=[customer.pk])
        response = signed_in("clerk").post(url, {"reason": "x", "next": "https://evil.example/"})
        assert response.url == customer_url(customer) + "#collections-panel"


class TestHome:
    def test_the_rep_sees_their_call_and_the_hold_and_logs_the_outcome(self, signed_in, issue, customer, run, clerk):
        overdue(issue, "500.00", 22)  # the task level (+21)
        run()
        task = CollectionTask.objects.get()
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday")
        client = signed_in("rep")
        page = parse(client.get(reverse("home")).text)
        assert customer.name in page.by_id(f"collection-task-{task.pk}").text
        assert "CFO on holiday" in page.by_id("my-held-customers").text
        url = reverse("receivables:collection_task_done", args=[task.pk])
        response = client.post(url, {"outcome": "promised", "next": reverse("home")})
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.outcome == "promised" and task.done_by.username == "rep"
        again = client.post(url, {"outcome": "called", "next": reverse("home")}, follow=True)
        assert "logged already" in again.text

    def test_another_rep_may_not_log_the_call(self, signed_in, issue, customer, run):
        overdue(issue, "500.00", 22)
        run()
        task = CollectionTask.objects.get()
        url = reverse("receivables:collection_task_done", args=[task.pk])
        assert signed_in("other_rep").post(url, {"outcome": "called"}).status_code == 403
        bad = signed_in("rep").post(url, {"outcome": "shouted", "next": reverse("home")}, follow=True)
        assert "valid choice" in bad.text
