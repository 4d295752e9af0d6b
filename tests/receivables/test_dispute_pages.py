"""The disputes list and a dispute's page: finance reads, filters and exports (CSV) every
dispute (a rep their own customers'), and resolves one from its page — by the credit note
made on the invoice, or rejected with a note — with the service's refusals as messages on
the form; every place a dispute is shown links to its page."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from collaboration.models import FeedItem
from receivables import dunning
from receivables.models import Dispute
from receivables.views import disputes as dispute_views
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

TODAY = date.today()
LIST = reverse("receivables:dispute_list")
# user, the owner filter (checked, then drawn), the customer filter, the page's rows with their
# count (one query: core.tables.counted_page), the totals; the session's savepoint, update and
# release when the filters to remember change
LIST_QUERIES = 9
# user, the owner filter (checked), the rows: however many there are
CSV_QUERIES = 3


def overdue(issue, net, days_overdue, **kwargs):
    return issue(net, on=TODAY - timedelta(days=30 + days_overdue), **kwargs)


@pytest.fixture
def dispute(issue, clerk):
    invoice = overdue(issue, "500.00", 10)
    return dunning.open_dispute(invoice=invoice, by=clerk, amount="120.00", reason="Two items arrived broken")


def detail(dispute):
    return reverse("receivables:dispute_detail", args=[dispute.pk])


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor, status",
    [("clerk", 200), ("finance_manager", 200), ("sales_manager", 200), ("rep", 200), ("outsider", 403)],
)
def test_the_list_is_for_who_reads_disputes(signed_in, dispute, actor, status):
    assert signed_in(actor).get(LIST).status_code == status


def test_a_rep_lists_and_opens_only_their_own_customers_disputes(signed_in, issue, dispute, other_rep, clerk):
    globex = CustomerFactory(owner=other_rep, name="Globex Corp")
    theirs = dunning.open_dispute(
        invoice=overdue(issue, "300.00", 5, who=globex), by=clerk, amount="10.00", reason="Price"
    )
    client = signed_in("rep")
    listed = [d.pk for d in client.get(LIST).context["disputes"]]
    assert listed == [dispute.pk]
    assert client.get(detail(dispute)).status_code == 200
    assert client.get(detail(theirs)).status_code == 404
    assert signed_in("clerk").get(detail(theirs)).status_code == 200


@pytest.mark.parametrize("actor", ["rep", "sales_manager"])
def test_who_may_not_resolve_sees_no_form_and_is_refused(signed_in, dispute, actor):
    client = signed_in(actor)
    page = parse(client.get(detail(dispute)).text)
    assert not page.find_all(id="resolve-form")
    response = client.post(detail(dispute), {"outcome": "rejected", "note": "No"})
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.is_open


# --- the list ------------------------------------------------------------------------------


class TestList:
    def test_open_disputes_come_first_with_links_and_totals(self, signed_in, issue, dispute, clerk):
        older = dunning.open_dispute(invoice=overdue(issue, "80.00", 3), by=clerk, amount="30.00", reason="Late")
        dunning.resolve_dispute(dispute=older, by=clerk, outcome="rejected", note="Delivered on time")
        response = signed_in("clerk").get(LIST)
        assert [d.pk for d in response.context["disputes"]] == [dispute.pk, older.pk]
        page = parse(response.text)
        row = page.by_id(f"dispute-{dispute.pk}")
        assert row.find("a").attrs["href"] == detail(dispute)
        assert "120.00" in row.text and "Open" in row.text and "Rita Rep" in row.text
        assert "150.00" in page.by_id("dispute-totals").text

    def test_filters_by_status_owner_and_customer(self, signed_in, issue, dispute, clerk, other_rep, customer):
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        theirs = dunning.open_dispute(
            invoice=overdue(issue, "300.00", 5, who=globex), by=clerk, amount="10.00", reason="Price"
        )
        dunning.resolve_dispute(dispute=theirs, by=clerk, outcome="rejected", note="Agreed price")
        client = signed_in("clerk")

        def shown(**query):
            return [d.pk for d in client.get(LIST, query).context["disputes"]]

        assert shown(status="open") == [dispute.pk]
        assert shown(status="rejected") == [theirs.pk]
        assert shown(owner=other_rep.pk) == [theirs.pk]
        assert shown(customer=customer.pk) == [dispute.pk]

    def test_a_bad_filter_is_an_error_on_the_filter(self, signed_in, dispute):
        response = signed_in("clerk").get(LIST, {"status": "bogus", "customer": "x"})
        assert response.status_code == 400
        assert parse(response.text).by_id("id_status_error")

    @pytest.mark.parametrize(
        "asked, shown",
        [("2", 2), ("abc", 1), ("-3", 1), ("0", 1), ("1.5", 1), ("99", 2), ("9" * 30, 2), ("9" * 5000, 1)],
    )
    def test_a_junk_negative_or_huge_page_number_shows_the_first_or_the_last_page(
        self, signed_in, issue, clerk, dispute, monkeypatch, asked, shown
    ):
        monkeypatch.setattr(dispute_views, "PER_PAGE", 2)
        for n in range(2):
            dunning.open_dispute(invoice=overdue(issue, "90.00", n + 1), by=clerk, amount="5", reason=f"Reason {n}")
        response = signed_in("clerk").get(LIST, {"page": asked})
        assert response.status_code == 200
        page = response.context["page"]
        assert (page.number, page.paginator.count, page.paginator.num_pages) == (shown, 3, 2)
        assert len(response.context["disputes"]) == (2 if shown == 1 else 1)

    def test_its_query_count_is_pinned(self, signed_in, issue, clerk, rep, django_assert_max_num_queries):
        client = signed_in("clerk")
        first = CustomerFactory(owner=rep)
        dunning.open_dispute(invoice=overdue(issue, "100.00", 5, who=first), by=clerk, amount="5", reason="x")
        client.get(LIST)
        with CaptureQueriesContext(connection) as one:
            client.get(LIST)
        for n in range(6):
            other = CustomerFactory(owner=rep)
            invoice = overdue(issue, f"{100 + n}.00", 5, who=other)
            dunning.open_dispute(invoice=invoice, by=clerk, amount="5", reason=f"Reason {n}")
        with CaptureQueriesContext(connection) as seven:
            response = client.get(LIST)
        assert len(response.context["disputes"]) == 7
        assert len(seven) == len(one) <= LIST_QUERIES
        with django_assert_max_num_queries(LIST_QUERIES):
            client.get(LIST, {"status": "open", "owner": rep.pk})


# --- the CSV export --------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="disputes-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


class TestCsvExport:
    HEADER = "Invoice,Customer,Disputed amount,Currency,Reason,Status,Opened by,Opened on,Resolved on,Resolution"

    @pytest.fixture
    def rejected(self, issue, clerk, other_rep):
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        theirs = dunning.open_dispute(
            invoice=overdue(issue, "300.00", 5, who=globex), by=clerk, amount="10.00", reason="Price"
        )
        dunning.resolve_dispute(dispute=theirs, by=clerk, outcome="rejected", note="Agreed price")
        return theirs

    def test_it_has_the_filtered_disputes_only_under_its_header(self, signed_in, dispute, rejected, other_rep):
        client = signed_in("clerk")
        today = timezone.localdate().isoformat()
        header, *rows = read_csv(client.get(LIST, {"status": "open", "_export": "csv"}))
        assert ",".join(header) == self.HEADER
        invoice = dispute.invoice
        assert rows == [
            [invoice.number, "Acme Industries GmbH", "120.00", invoice.currency, "Two items arrived broken"]
            + ["open", "Clara Clerk", today, "", ""]
        ]
        header, *rows = read_csv(client.get(LIST, {"owner": other_rep.pk, "_export": "csv"}))
        assert rows == [
            [rejected.invoice.number, "Globex Corp", "10.00", rejected.invoice.currency, "Price"]
            + ["rejected", "Clara Clerk", today, today, "Agreed price"]
        ]
        _header, *everything = read_csv(client.get(LIST, {"_export": "csv"}))
        assert [row[0] for row in everything] == [invoice.number, rejected.invoice.number]  # the page's order

    def test_a_rep_exports_their_own_customers_disputes_only(self, signed_in, dispute, rejected):
        _header, *rows = read_csv(signed_in("rep").get(LIST, {"_export": "csv"}))
        assert [row[0] for row in rows] == [dispute.invoice.number]

    def test_cells_that_look_like_formulas_are_defused(self, signed_in, issue, clerk):
        formula = dunning.open_dispute(
            invoice=overdue(issue, "50.00", 2), by=clerk, amount="5.00", reason='=HYPERLINK("http://evil.example")'
        )
        dunning.resolve_dispute(dispute=formula, by=clerk, outcome="rejected", note="@SUM(A1:A9)")
        header, row = read_csv(signed_in("clerk").get(LIST, {"_export": "csv"}))
        assert row[header.index("Reason")] == '\'=HYPERLINK("http://evil.example")'
        assert row[header.index("Resolution")] == "'@SUM(A1:A9)"
        assert row[header.index("Disputed amount")] == "5.00"

    def test_a_bad_filter_gets_the_page_with_its_error(self, signed_in, dispute):
        response = signed_in("clerk").get(LIST, {"status": "bogus", "_export": "csv"})
        assert response.status_code == 400
        assert parse(response.text).by_id("id_status_error")

    def test_who_reads_no_disputes_exports_none(self, signed_in, dispute):
        assert signed_in("outsider").get(LIST, {"_export": "csv"}).status_code == 403

    def test_the_export_link_keeps_the_filters(self, signed_in, dispute):
        page = parse(signed_in("clerk").get(LIST, {"status": "open", "page": "1"}).text)
        assert page.by_id("export-csv").attrs["href"] == "?status=open&_export=csv"

    def test_its_query_count_is_pinned_whatever_the_rows(self, signed_in, issue, clerk, rep, dispute):
        client = signed_in("clerk")
        query = {"status": "open", "owner": rep.pk, "_export": "csv"}
        client.get(LIST)  # warm: session, permissions
        with CaptureQueriesContext(connection) as one:
            assert len(read_csv(client.get(LIST, query))) == 2
        for n in range(6):
            invoice = overdue(issue, f"{100 + n}.00", 5, who=CustomerFactory(owner=rep))
            dunning.open_dispute(invoice=invoice, by=clerk, amount="5", reason=f"Reason {n}")
        with CaptureQueriesContext(connection) as seven:
            assert len(read_csv(client.get(LIST, query))) == 8
        assert len(seven) == len(one) <= CSV_QUERIES


# --- a dispute's page ----------------------------------------------------------------------


class TestResolve:
    def test_the_page_shows_the_dispute_its_feed_and_a_link_to_make_a_credit_note(self, signed_in, dispute):
        page = parse(signed_in("clerk").get(detail(dispute)).text)
        invoice = dispute.invoice
        assert page.by_id("dispute-invoice").text == invoice.number
        assert "120.00" in page.by_id("dispute-amount").text
        assert page.by_id("dispute-reason").text == "Two items arrived broken"
        assert "Clara Clerk" in page.by_id("dispute-opened").text
        assert page.by_id("dispute-status").text.strip() == "Open"
        assert page.by_id("make-credit-note").attrs["href"] == reverse("billing:credit_note_create", args=[invoice.pk])
        assert page.by_id("resolve-form")
        assert "Opened a dispute" in page.text  # the record's feed

    def test_finance_resolves_it_with_the_credit_note_made_on_the_invoice(self, signed_in, dispute, clerk):
        note = billing.credit_invoice(invoice=dispute.invoice, by=clerk, reason="Broken items")
        client = signed_in("clerk")
        page = parse(client.get(detail(dispute)).text)
        options = [o.attrs.get("value") for o in page.by_id("id_credit_note").find_all("option")]
        assert str(note.pk) in options
        response = client.post(detail(dispute), {"outcome": "credit", "credit_note": note.pk, "note": "Credited"})
        assert response.status_code == 302 and response.url == detail(dispute)
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.RESOLVED_CREDIT and dispute.credit_note == note
        assert dispute.resolved_by == clerk
        assert FeedItem.objects.filter(verb="dispute.resolved").count() == 1
        resolved = parse(client.get(detail(dispute)).text)
        assert resolved.by_id("dispute-credit-note").text == note.number
        assert not resolved.find_all(id="resolve-form")

    def test_a_credit_without_a_credit_note_is_a_message_on_the_form(self, signed_in, dispute):
        response = signed_in("clerk").post(detail(dispute), {"outcome": "partial", "note": "Half"})
        assert response.status_code == 400
        assert "Choose the credit note that resolves the dispute." in response.text
        assert "There is a problem" in response.text
        dispute.refresh_from_db()
        assert dispute.is_open

    def test_a_credit_note_of_another_invoice_is_refused(self, signed_in, issue, dispute, clerk):
        other = billing.credit_invoice(invoice=overdue(issue, "90.00", 2), by=clerk, reason="Other")
        response = signed_in("clerk").post(detail(dispute), {"outcome": "credit", "credit_note": other.pk})
        assert response.status_code == 400 and "valid choice" in response.text
        dispute.refresh_from_db()
        assert dispute.is_open

    def test_rejecting_needs_a_note(self, signed_in, dispute):
        client = signed_in("finance_manager")
        response = client.post(detail(dispute), {"outcome": "rejected", "note": " "})
        assert response.status_code == 400 and "Say why the dispute is rejected." in response.text
        client.post(detail(dispute), {"outcome": "rejected", "note": "Delivered as ordered"})
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.REJECTED and dispute.resolution_note == "Delivered as ordered"

    def test_resolving_twice_is_a_conflict_not_a_500(self, signed_in, dispute, clerk):
        client = signed_in("clerk")
        client.get(detail(dispute))  # the form as opened …
        dunning.resolve_dispute(dispute=dispute, by=clerk, outcome="rejected", note="Meanwhile")  # … then resolved
        response = client.post(detail(dispute), {"outcome": "rejected", "note": "Again"})
        assert response.status_code == 409 and "resolved already" in response.text

    @pytest.mark.parametrize("junk", [{"outcome": "maybe"}, {}, {"outcome": "credit", "credit_note": "9" * 30}])
    def test_junk_is_a_form_error(self, signed_in, dispute, junk):
        assert signed_in("clerk").post(detail(dispute), junk).status_code == 400


# --- links to the dispute's page -------------------------------------------------------------


def test_the_worklist_the_360_and_the_feed_link_to_the_dispute(signed_in, dispute, customer):
    client = signed_in("clerk")
    row = parse(client.get(reverse("receivables:collections")).text).by_id(f"worklist-row-{customer.pk}")
    assert detail(dispute) in [a.attrs.get("href") for a in row.find_all("a")]
    collections = reverse("crm:customer_panel", args=[customer.pk, "collections"])  # the 360's, after the page
    panel = parse(client.get(collections).text).by_id("collections-holds")
    assert detail(dispute) in [a.attrs.get("href") for a in panel.find_all("a")]
    rep_panel = parse(signed_in("rep").get(collections).text)
    assert detail(dispute) in [a.attrs.get("href") for a in rep_panel.by_id("collections-holds").find_all("a")]


def test_finance_finds_disputes_in_the_navigation(signed_in):
    nav = parse(signed_in("clerk").get(reverse("receivables:collections")).text)
    assert LIST in [a.attrs.get("href") for a in nav.find_all("a")]
    rep_page = parse(signed_in("rep").get(reverse("home")).text)
    assert LIST not in [a.attrs.get("href") for a in rep_page.find_all("a")]
