"""Billing's pages: the invoice list (filters, totals of the filtered set, CSV, a query
count that does not grow with the data), a new draft, the invoice's page with the
actions each role may take, the draft's lines editor, issue / send / void / credit
through the pages, the won deal's invoicing panel, the customer 360's invoices panel
and invoices in the global search."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from billing import services
from billing.models import CreditNote, Invoice
from collaboration.models import FeedItem
from core import documents
from crm import opportunities
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

LIST = reverse("billing:invoice_list")


@pytest.fixture(autouse=True)
def _after_commit_work_runs_at_once(monkeypatch):
    """The test's transaction never commits: the PDF rendering and the email, queued
    for after the commit, run as they are queued (Celery runs eagerly in tests)."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


ISSUED_ON = date(2026, 3, 10)


def detail(invoice):
    return reverse("billing:invoice_detail", args=[invoice.pk])


def draft(clerk, customer, *lines):
    lines = lines or ({"description": "Consulting", "quantity": "2", "unit_price": "500.00"},)
    return services.create_invoice(by=clerk, customer=customer, lines=list(lines))


def issued(clerk, customer, *lines, on=ISSUED_ON):
    return services.issue_invoice(invoice=draft(clerk, customer, *lines), by=clerk, on=on)


def shown(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


def lines_post(rows, action="save", version=None, **extra):
    data = {"lines-count": str(len(rows)), "_action": action, **extra}
    if version is not None:
        data["version"] = str(version)
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


# --- the list ---------------------------------------------------------------------------


@pytest.fixture
def book(clerk, rep, other_rep, finance_manager):
    """Invoices of two customers (owned by two reps), issued, overdue, paid-off by a
    credit note, void and draft, in EUR and USD."""
    acme = CustomerFactory(owner=rep, name="Acme Industries GmbH")
    globex = CustomerFactory(owner=other_rep, name="Globex Corp", currency="USD")
    today = date.today()
    invoices = {
        "acme_open": issued(clerk, acme, on=today),  # 1,000.00 EUR, due in 30 days
        "acme_overdue": issued(clerk, acme, on=today - timedelta(days=60)),  # due 30 days ago
        "globex_open": issued(
            clerk,
            globex,
            {"description": "Hardware", "quantity": "1", "unit_price": "250"},
            on=today - timedelta(days=10),
        ),
        "acme_void": issued(clerk, acme, on=today),
        "acme_draft": draft(clerk, acme),
    }
    services.void_invoice(invoice=invoices["acme_void"], by=finance_manager, reason="Duplicate")
    return {"acme": acme, "globex": globex, **{k: Invoice.objects.get(pk=v.pk) for k, v in invoices.items()}}


class TestInvoiceList:
    def test_it_lists_invoices_with_status_due_date_and_an_overdue_badge(self, signed_in, book):
        page = parse(signed_in("rep").get(LIST).text)
        rows = page.find("tbody").find_all(tag="tr")
        assert len(rows) == 5
        overdue = [row for row in rows if book["acme_overdue"].number in row.text]
        assert "overdue" in overdue[0].text
        assert not [row for row in rows if "overdue" in row.text and book["acme_open"].number in row.text]
        assert "Draft" in page.find("tbody").text and "Void" in page.find("tbody").text

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("status=issued", {"acme_open", "acme_overdue", "globex_open"}),
            ("status=draft", {"acme_draft"}),
            ("overdue=true", {"acme_overdue"}),
            ("q=globex", {"globex_open"}),
        ],
    )
    def test_filters(self, signed_in, book, query, expected):
        response = signed_in("clerk").get(f"{LIST}?{query}")
        assert set(shown(response)) == {book[key].pk for key in expected}

    def test_filters_by_customer_owner_and_dates(self, signed_in, book, other_rep):
        client = signed_in("clerk")
        assert shown(client.get(f"{LIST}?owner={other_rep.pk}")) == [book["globex_open"].pk]
        by_customer = client.get(f"{LIST}?customer={book['globex'].pk}")
        assert "Globex Corp" in parse(by_customer.text).by_id("customer-filter").text
        old = (date.today() - timedelta(days=20)).isoformat()
        assert shown(client.get(f"{LIST}?due_to={old}&status=issued")) == [book["acme_overdue"].pk]
        ten_days_ago = date.today() - timedelta(days=10)
        issued_range = client.get(f"{LIST}?issued_from={ten_days_ago}&issued_to={ten_days_ago}")
        assert shown(issued_range) == [book["globex_open"].pk]

    def test_a_bad_filter_says_so_and_lists_nothing(self, signed_in, book):
        response = signed_in("clerk").get(f"{LIST}?due_from=yesterday")
        page = parse(response.text)
        assert response.status_code == 200
        assert "could not be applied" in page.by_id("filter-errors").text
        assert not page.by_id("list-summary").text.strip()  # no count, and nothing asked for later
        assert "hx-get" not in page.by_id("list-summary").attrs
        summary = signed_in("clerk").get(f"{LIST}?due_from=yesterday&_part=summary")
        assert "filter-errors" in summary.text  # the page with its error, not a count

    @pytest.mark.parametrize("customer", ["1.5", "1e3"])
    def test_a_customer_id_that_is_not_a_whole_number_is_an_error_on_the_filter(self, signed_in, book, customer):
        """Not customer 1's or customer 1000's invoices: the filter shared with the API takes whole ids only."""
        response = signed_in("clerk").get(LIST, {"customer": customer})
        page = parse(response.text)
        assert response.status_code == 200
        assert "whole number" in page.by_id("id_customer_error").text
        assert "could not be applied" in page.by_id("filter-errors").text
        assert shown(response) == []

    def test_totals_are_of_the_filtered_set_per_currency(self, signed_in, book):
        client = signed_in("clerk")
        # The page asks for its count and totals after load: 1M invoices cost more to sum than the page.
        page = parse(client.get(LIST).text)
        assert page.by_id("list-summary").attrs["hx-get"] == "?_part=summary"
        # Billed: issued invoices, not the void one nor the draft; balance due: the open ones.
        summary = parse(f"<div>{client.get(f'{LIST}?_part=summary').text}</div>")
        assert "5 invoices" in summary.text
        assert " ".join(summary.by_id("invoice-totals").text.split()) == "Billed: 2,000.00 EUR · 250.00 USD"
        assert " ".join(summary.by_id("balance-totals").text.split()) == "Balance due: 2,000.00 EUR · 250.00 USD"
        overdue = parse(f"<div>{client.get(f'{LIST}?overdue=true&_part=summary').text}</div>")
        assert "1 invoice matches" in overdue.text
        assert " ".join(overdue.by_id("balance-totals").text.split()) == "Balance due: 1,000.00 EUR"

    def test_the_summary_is_cached_until_an_invoice_changes(self, signed_in, book, finance_manager):
        client = signed_in("clerk")
        client.get(f"{LIST}?_part=summary")
        page = parse(client.get(LIST).text)  # cached: shown in the page, nothing asked for later
        assert "hx-get" not in page.by_id("list-summary").attrs and "5 invoices" in page.by_id("list-summary").text
        services.void_invoice(invoice=book["acme_open"], by=finance_manager, reason="Sent twice")
        summary = parse(f"<div>{client.get(f'{LIST}?_part=summary').text}</div>")
        assert summary.by_id("invoice-totals").text.startswith("Billed: 1,000.00 EUR")  # the void one is not billed

    def test_the_csv_export_is_the_filtered_set(self, signed_in, book):
        response = signed_in("clerk").get(f"{LIST}?status=issued&_export=csv&sort=number")
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:4] == ["Number", "Status", "Customer", "Customer tax ID"]
        assert sorted(row[0] for row in rows[1:]) == sorted(
            book[key].number for key in ("acme_open", "acme_overdue", "globex_open")
        )
        globex = next(row for row in rows if row[2] == "Globex Corp")
        assert globex[rows[0].index("Total")] == "250.00" and globex[rows[0].index("Currency")] == "USD"

    def test_the_page_costs_the_same_queries_for_few_or_many_invoices(
        self, signed_in, clerk, customer, django_assert_num_queries
    ):
        client = signed_in("clerk")
        for _ in range(3):
            issued(clerk, customer)
        client.get(LIST)  # warm: session, permissions
        with django_assert_num_queries(3) as few:  # user, rows, owners (the filter); the totals come after
            client.get(LIST)
        for _ in range(20):
            draft(clerk, CustomerFactory())
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(LIST).context["table"].page.object_list) == 23
        with django_assert_num_queries(2):  # user, totals; then cached until an invoice changes
            client.get(f"{LIST}?_part=summary")
        with django_assert_num_queries(3):
            client.get(LIST)

    def test_only_finance_sees_new_invoice(self, signed_in, book):
        assert not parse(signed_in("rep").get(LIST).text).find_all(id="new-invoice")
        assert parse(signed_in("clerk").get(LIST).text).by_id("new-invoice")

    def test_who_reads_no_invoices_gets_403(self, signed_in):
        assert signed_in("outsider").get(LIST).status_code == 403


class TestNewInvoice:
    def test_a_clerk_finds_the_customer_and_creates_a_draft(self, signed_in, customer):
        client = signed_in("clerk")
        page = parse(client.get(reverse("billing:invoice_create"), {"q": "acme"}).text)
        assert "Acme Industries GmbH" in page.by_id("customers-found").text
        response = client.post(reverse("billing:invoice_create"), {"customer": customer.pk})
        invoice = Invoice.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(invoice)
        assert invoice.is_draft and invoice.customer == customer and invoice.currency == customer.currency

    def test_an_unknown_customer_is_refused(self, signed_in):
        response = signed_in("clerk").post(reverse("billing:invoice_create"), {"customer": 999999})
        assert response.status_code == 400 and "Choose a customer" in response.text
        assert not Invoice.objects.exists()

    def test_a_rep_may_not(self, signed_in, customer):
        assert signed_in("rep").post(reverse("billing:invoice_create"), {"customer": customer.pk}).status_code == 403


# --- the invoice's page -------------------------------------------------------------------

ACTIONS = ("issue-invoice", "download-pdf", "credit-invoice", "void-invoice", "send-form", "lines-panel", "draft-form")


def actions_shown(page) -> set[str]:
    return {name for name in ACTIONS if page.find_all(id=name)}


class TestDetailActions:
    @pytest.mark.parametrize(
        ("actor", "expected"),
        [
            ("clerk", {"issue-invoice", "lines-panel", "draft-form"}),
            ("finance_manager", {"issue-invoice", "lines-panel", "draft-form"}),
            ("rep", {"lines-panel"}),
        ],
    )
    def test_a_draft(self, signed_in, clerk, customer, actor, expected):
        invoice = draft(clerk, customer)
        page = parse(signed_in(actor).get(detail(invoice)).text)
        assert actions_shown(page) == expected
        assert page.by_id("invoice-number").text == "Draft"
        assert bool(page.find_all(id="add-line")) == (actor != "rep")  # the rep reads the lines only

    @pytest.mark.parametrize(
        ("actor", "expected"),
        [
            ("clerk", {"download-pdf", "credit-invoice", "send-form", "lines-panel"}),
            ("finance_manager", {"download-pdf", "credit-invoice", "void-invoice", "send-form", "lines-panel"}),
            ("rep", {"download-pdf", "lines-panel"}),
            ("sales_manager", {"download-pdf", "lines-panel"}),
        ],
    )
    def test_an_issued_invoice(self, signed_in, clerk, customer, actor, expected):
        invoice = issued(clerk, customer)
        page = parse(signed_in(actor).get(detail(invoice)).text)
        assert actions_shown(page) == expected
        assert page.by_id("invoice-number").text == invoice.number
        assert page.by_id("pdf-panel").find(class_="document-status").attrs["data-status"] == "ready"
        assert not page.find_all(id="add-line")

    def test_a_void_invoice_offers_nothing_but_its_pdf(self, signed_in, clerk, finance_manager, customer):
        invoice = services.void_invoice(invoice=issued(clerk, customer), by=finance_manager, reason="Wrong customer")
        page = parse(signed_in("finance_manager").get(detail(invoice)).text)
        assert actions_shown(page) == {"download-pdf", "lines-panel"}
        assert "Wrong customer" in page.by_id("void-info").text

    def test_the_header_shows_totals_taxes_and_the_deal(self, signed_in, rep, won_deal):
        invoice = services.invoice_opportunity(opportunity=won_deal, by=rep)
        page = parse(signed_in("rep").get(detail(invoice)).text)
        assert page.by_id("invoice-deal").find(tag="a").attrs["href"] == won_deal.get_absolute_url()
        totals = page.by_id("totals-panel")
        assert "875.92" in page.by_id("total-subtotal").text
        assert "VAT 19% on 875.92" in totals.text and "166.42" in totals.text
        assert "1,042.34" in page.by_id("total-total").text
        assert page.by_id("invoice-terms").text == won_deal.terms_label

    def test_an_issued_invoice_shows_credited_paid_and_balance(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        services.credit_invoice(invoice=invoice, by=clerk, reason="Goodwill", lines=None)
        page = parse(signed_in("rep").get(detail(invoice)).text)
        assert "1,000.00" in page.by_id("total-credited").text
        assert "0.00" in page.by_id("total-balance").text
        assert "Paid" in page.by_id("invoice-status").text
        assert "Goodwill" in page.by_id("credit-notes-panel").text

    def test_who_reads_no_invoices_gets_403(self, signed_in, clerk, customer):
        assert signed_in("outsider").get(detail(draft(clerk, customer))).status_code == 403


class TestLinesEditor:
    def url(self, invoice):
        return reverse("billing:invoice_lines", args=[invoice.pk])

    def test_preview_prices_the_rows_with_tax_without_saving(self, signed_in, clerk, customer, vat):
        invoice = draft(clerk, customer)
        rows = [{"description": "Widgets", "quantity": "3", "unit_price": "10", "tax_rate": str(vat.pk)}]
        response = signed_in("clerk").post(self.url(invoice), lines_post(rows, "preview"), HTTP_HX_REQUEST="true")
        page = parse(response.text)
        assert "30.00" in page.by_id("line-0-amount").text
        assert "5.70" in page.by_id("lines-tax").text and "35.70" in page.by_id("lines-total").text
        assert invoice.lines.get().description == "Consulting"

    def test_save_replaces_the_lines_and_the_totals(self, signed_in, clerk, customer, vat):
        invoice = draft(clerk, customer)
        rows = [
            {"description": "Widgets", "quantity": "3", "unit_price": "10", "tax_rate": str(vat.pk)},
            {"description": "Setup", "quantity": "1", "unit_price": "100"},
        ]
        response = signed_in("clerk").post(
            self.url(invoice), lines_post(rows, version=invoice.version), HTTP_HX_REQUEST="true"
        )
        page = parse(response.text)
        assert "Saved 2 lines." in page.by_id("lines-notice").text
        assert "135.70" in page.by_id("total-total").text  # the totals panel, swapped out of band
        invoice.refresh_from_db()
        assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
            Decimal("130.00"),
            Decimal("5.70"),
            Decimal("135.70"),
        )

    def test_an_invalid_row_saves_nothing_and_says_which(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        rows = [{"description": "Fine", "quantity": "1", "unit_price": "10"}, {"description": "Bad", "quantity": "-2"}]
        response = signed_in("clerk").post(self.url(invoice), lines_post(rows))
        assert response.status_code == 400
        page = parse(response.text)
        assert "correct the 1 line" in page.by_id("lines-error").text
        assert "Line 2" in page.by_id("line-1-errors").text
        assert list(invoice.lines.values_list("description", flat=True)) == ["Consulting"]

    def test_a_stale_version_saves_nothing(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        rows = [{"description": "Mine", "quantity": "1", "unit_price": "10"}]
        response = signed_in("clerk").post(self.url(invoice), lines_post(rows, version=invoice.version + 5))
        assert response.status_code == 409 and "changed by someone else" in response.text
        assert list(invoice.lines.values_list("description", flat=True)) == ["Consulting"]

    def test_an_issued_invoice_refuses_with_a_message(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        rows = [{"description": "Sneaky", "quantity": "1", "unit_price": "1"}]
        client = signed_in("clerk")
        response = client.post(self.url(invoice), lines_post(rows), HTTP_HX_REQUEST="true")
        assert response.status_code == 409 and "cannot change" in parse(response.text).by_id("lines-error").text
        assert not parse(response.text).find_all(id="add-line")
        response = client.post(self.url(invoice), lines_post(rows), follow=True)
        assert "correct it with a credit note" in response.text
        assert list(invoice.lines.values_list("description", flat=True)) == ["Consulting"]

    def test_a_rep_may_not_edit(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        rows = [{"description": "Sneaky", "quantity": "1", "unit_price": "1"}]
        assert signed_in("rep").post(self.url(invoice), lines_post(rows)).status_code == 403

    def test_terms_and_notes_of_the_draft(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        data = {"payment_terms": "eom", "payment_days": "15", "notes": "PO 4711", "version": invoice.version}
        response = signed_in("clerk").post(reverse("billing:invoice_edit", args=[invoice.pk]), data)
        assert response.status_code == 302
        invoice.refresh_from_db()
        assert (invoice.payment_terms, invoice.payment_days, invoice.notes) == ("eom", 15, "PO 4711")
        stale = signed_in("clerk").post(reverse("billing:invoice_edit", args=[invoice.pk]), {**data, "version": 1})
        assert stale.status_code == 400 and "changed by someone else" in stale.text


class TestOperations:
    def test_issue_gives_the_number_and_the_pdf(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        client = signed_in("clerk")
        response = client.post(reverse("billing:invoice_issue", args=[invoice.pk]), {"version": invoice.version})
        assert response.status_code == 302
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.ISSUED and invoice.number.startswith("INV-")
        page = parse(client.get(detail(invoice)).text)
        assert f"Issued invoice {invoice.number}" in page.text
        pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
        assert pdf["Content-Type"] == "application/pdf"
        assert f'filename="{invoice.number}.pdf"' in pdf["Content-Disposition"]

    def test_issuing_an_empty_invoice_is_refused_with_a_message(self, signed_in, clerk, customer):
        invoice = services.create_invoice(by=clerk, customer=customer)
        client = signed_in("clerk")
        client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
        page = parse(client.get(detail(invoice)).text)
        assert "Add at least one line" in page.text
        invoice.refresh_from_db()
        assert invoice.is_draft and invoice.number is None

    def test_a_rep_may_not_issue(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        assert signed_in("rep").post(reverse("billing:invoice_issue", args=[invoice.pk])).status_code == 403

    def test_the_pdf_is_404_for_a_draft(self, signed_in, clerk, customer):
        invoice = draft(clerk, customer)
        assert signed_in("clerk").get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 404

    def test_send_prefills_the_recipient_and_asks_before_sending_again(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        client = signed_in("clerk")
        page = parse(client.get(detail(invoice)).text)
        assert page.by_id("id_to").attrs["value"] == customer.email
        assert not page.find_all(id="id_resend")
        response = client.post(reverse("billing:invoice_send", args=[invoice.pk]), {"to": customer.email})
        assert response.status_code == 302
        assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
        assert mail.outbox[0].attachments[0][0] == f"{invoice.number}.pdf"
        page = parse(client.get(detail(invoice)).text)
        assert customer.email in page.by_id("sent-info").text and page.by_id("id_resend")
        again = client.post(reverse("billing:invoice_send", args=[invoice.pk]), {"to": "ap@acme.example"})
        assert again.status_code == 400 and "Confirm to send it again" in again.text
        assert len(mail.outbox) == 1
        client.post(reverse("billing:invoice_send", args=[invoice.pk]), {"to": "ap@acme.example", "resend": "on"})
        assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ap@acme.example"]
        assert FeedItem.objects.filter(verb="invoice.sent").count() == 2

    def test_send_refuses_a_bad_address(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        response = signed_in("clerk").post(reverse("billing:invoice_send", args=[invoice.pk]), {"to": "nope"})
        assert response.status_code == 400 and "valid email" in response.text
        assert not mail.outbox

    def test_void_needs_a_reason_and_a_finance_manager(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        url = reverse("billing:invoice_void", args=[invoice.pk])
        assert signed_in("clerk").post(url, {"reason": "Duplicate"}).status_code == 403
        client = signed_in("finance_manager")
        assert client.post(url, {"reason": ""}).status_code == 400
        assert client.post(url, {"reason": "Duplicate"}).status_code == 302
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.VOID and invoice.number  # keeps its number

    def test_voiding_a_credited_invoice_is_refused_with_a_message(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        line = invoice.lines.get()
        services.credit_invoice(invoice=invoice, by=clerk, reason="x", lines=[{"invoice_line": line.pk, "quantity": 1}])
        client = signed_in("finance_manager")
        client.post(reverse("billing:invoice_void", args=[invoice.pk]), {"reason": "Duplicate"})
        assert "credit notes" in parse(client.get(detail(invoice)).text).text
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.ISSUED


class TestCreditNotes:
    def url(self, invoice):
        return reverse("billing:credit_note_create", args=[invoice.pk])

    def test_credit_some_of_a_line(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        line = invoice.lines.get()
        client = signed_in("clerk")
        page = parse(client.get(self.url(invoice)).text)
        assert page.by_id(f"id_line_{line.pk}").attrs["value"] == "0"
        response = client.post(self.url(invoice), {"scope": "lines", f"line_{line.pk}": "1", "reason": "One day less"})
        note = CreditNote.objects.get()
        assert response.status_code == 302 and response["Location"] == note.get_absolute_url()
        assert note.total == Decimal("500.00") and note.number.startswith("CN-")
        invoice.refresh_from_db()
        assert invoice.balance_due == Decimal("500.00")
        page = parse(client.get(note.get_absolute_url()).text)
        assert "One day less" in page.by_id("credit-note-reason").text
        assert page.by_id("credited-invoice").text == invoice.number
        assert page.by_id("pdf-panel").find(class_="document-status").attrs["data-status"] == "ready"
        assert client.get(reverse("billing:credit_note_pdf", args=[note.pk]))["Content-Type"] == "application/pdf"

    def test_credit_everything_left(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        signed_in("clerk").post(self.url(invoice), {"scope": "all", "reason": "Cancelled"})
        invoice.refresh_from_db()
        assert invoice.balance_due == 0 and invoice.amount_credited == Decimal("1000.00")

    def test_more_than_is_left_is_refused(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        line = invoice.lines.get()
        response = signed_in("clerk").post(self.url(invoice), {"scope": "lines", f"line_{line.pk}": "3", "reason": "x"})
        assert response.status_code == 400 and not CreditNote.objects.exists()
        nothing = signed_in("clerk").post(self.url(invoice), {"scope": "lines", f"line_{line.pk}": "0", "reason": "x"})
        assert nothing.status_code == 400 and "at least one line" in nothing.text

    def test_a_rep_may_not_credit(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        assert signed_in("rep").get(self.url(invoice)).status_code == 403


# --- the won deal's invoicing panel -----------------------------------------------------------


class TestDealPanel:
    def url(self, deal):
        return reverse("billing:deal_invoice", args=[deal.pk])

    def test_the_owner_invoices_the_whole_deal_in_one_click(self, signed_in, won_deal):
        client = signed_in("rep")
        page = parse(client.get(won_deal.get_absolute_url()).text)
        panel = page.by_id("invoicing-panel")
        assert "875.92" in page.by_id("deal-left-to-invoice").text
        assert panel.find(id="invoice-deal") and panel.find(id="invoice-percent")
        response = client.post(self.url(won_deal), {"mode": "whole"})
        invoice = Invoice.objects.get()
        assert response["Location"] == detail(invoice)
        assert invoice.opportunity == won_deal and invoice.subtotal == Decimal("875.92")
        page = parse(client.get(won_deal.get_absolute_url()).text)
        assert "0.00" in page.by_id("deal-left-to-invoice").text
        assert page.by_id("deal-invoiced-in-full") and "Draft" in page.by_id("deal-invoices").text

    def test_a_percentage_then_the_remaining_balance(self, signed_in, won_deal):
        client = signed_in("clerk")
        client.post(self.url(won_deal), {"mode": "percent", "percent": "30"})
        assert Invoice.objects.get().subtotal == Decimal("262.78")
        page = parse(client.get(won_deal.get_absolute_url()).text)
        assert "613.14" in page.by_id("deal-left-to-invoice").text and page.by_id("invoice-remaining")
        client.post(self.url(won_deal), {"mode": "remaining"})
        assert sorted(Invoice.objects.values_list("subtotal", flat=True)) == [Decimal("262.78"), Decimal("613.14")]

    def test_a_bad_percentage_is_refused_with_a_message(self, signed_in, won_deal):
        client = signed_in("clerk")
        response = client.post(self.url(won_deal), {"mode": "percent", "percent": "130"}, follow=True)
        assert "less than or equal to 100" in response.text
        client.post(self.url(won_deal), {"mode": "percent", "percent": "80"})
        too_much = client.post(self.url(won_deal), {"mode": "percent", "percent": "30"}, follow=True)
        assert "more than the" in too_much.text and Invoice.objects.count() == 1

    def test_another_rep_sees_the_panel_read_only_and_may_not_post(self, signed_in, won_deal):
        client = signed_in("other_rep")
        panel = parse(client.get(won_deal.get_absolute_url()).text).by_id("invoicing-panel")
        assert not panel.find_all(tag="form")
        assert "Not invoiced yet" in panel.text
        assert client.post(self.url(won_deal), {"mode": "whole"}).status_code == 403

    def test_an_open_deal_has_no_invoicing_panel(self, signed_in, rep, customer):
        deal = opportunities.create_opportunity(
            by=rep, customer=customer, data={"name": "Open", "expected_close_date": date(2026, 12, 31)}
        )
        assert not parse(signed_in("rep").get(deal.get_absolute_url()).text).find_all(id="invoicing-panel")
        assert signed_in("clerk").post(self.url(deal), {"mode": "whole"}, follow=True).status_code == 200
        assert not Invoice.objects.exists()


# --- the customer 360 and search ----------------------------------------------------------------


class TestCustomerPanel:
    """A lazy panel of the 360 (crm.panels): the page holds its placeholder, and the panel
    comes from its own URL once the page is shown."""

    @staticmethod
    def panel(client, customer):
        return parse(client.get(reverse("crm:customer_panel", args=[customer.pk, "invoices"])).text)

    def test_open_and_recent_invoices_billed_this_year_and_balance_due(self, signed_in, clerk, customer):
        today = date.today()
        overdue = issued(clerk, customer, on=today - timedelta(days=60))
        for _ in range(5):
            issued(clerk, customer, on=today)
        client = signed_in("rep")
        assert parse(client.get(customer.get_absolute_url()).text).by_id("invoices-lazy-panel")
        page = self.panel(client, customer)
        panel = page.by_id("invoices-panel")
        assert len(panel.find("tbody").find_all(tag="tr")) == 5
        assert overdue.number in panel.find("tbody").text  # open ones first, the overdue among them
        assert "6,000.00" in page.by_id("customer-balance-due").text and "1 overdue" in panel.text
        billed = Decimal("6000.00") if overdue.issue_date.year == today.year else Decimal("5000.00")
        assert f"{billed:,.2f}" in page.by_id("billed-this-year").text
        link = page.by_id("customer-invoice-list").attrs["href"]
        assert link == f"{LIST}?customer={customer.pk}"
        assert not panel.find_all(id="customer-new-invoice")  # reps do not create invoices

    def test_hidden_from_a_rep_when_there_are_none_and_offered_to_finance(self, signed_in, customer):
        assert signed_in("rep").get(reverse("crm:customer_panel", args=[customer.pk, "invoices"])).content == b""
        panel = self.panel(signed_in("clerk"), customer).by_id("invoices-panel")
        assert panel.find(id="customer-new-invoice").attrs["href"].endswith(f"?customer={customer.pk}")

    def test_the_360_and_the_panel_cost_the_same_with_few_or_many_invoices(self, signed_in, clerk, customer):
        from tests.crm.test_customer_360 import MAX_QUERIES, count_queries

        issued(clerk, customer)
        client = signed_in("rep")
        url = reverse("crm:customer_panel", args=[customer.pk, "invoices"])
        one = count_queries(client, customer.get_absolute_url()), count_queries(client, url)
        for _ in range(10):
            issued(clerk, customer)
        again = count_queries(client, customer.get_absolute_url()), count_queries(client, url)
        assert again == one and max(one) <= MAX_QUERIES


class TestSearch:
    def test_invoices_are_found_by_number_and_customer_name(self, signed_in, clerk, customer):
        invoice = issued(clerk, customer)
        client = signed_in("rep")
        by_number = client.get(reverse("search"), {"q": invoice.number})
        assert invoice.number in by_number.text and detail(invoice) in by_number.text
        by_name = client.get(reverse("search"), {"q": "Acme Industries"})
        assert detail(invoice) in by_name.text


def test_the_pdf_document_is_the_one_the_pipeline_made(clerk, customer):
    invoice = issued(clerk, customer)
    assert documents.document_for(invoice, services.INVOICE_DOCUMENT).is_ready


def test_an_invoice_issued_without_a_pdf_gets_one_when_first_opened(client, clerk, won_deal, rep):
    """The demo's history is issued with render=False: the page makes the PDF on first view."""
    from billing import services
    from core import documents

    invoice = services.invoice_opportunity(opportunity=won_deal, by=rep)
    invoice = services.issue_invoice(invoice=invoice, by=clerk, render=False)
    assert documents.document_for(invoice, services.INVOICE_DOCUMENT) is None
    client.force_login(clerk)
    assert client.get(invoice.get_absolute_url()).status_code == 200
    assert documents.document_for(invoice, services.INVOICE_DOCUMENT) is not None


class TestGlobalSearch:
    def test_finds_invoices_by_number_or_by_the_customer_a_query_names(self, rep, book, monkeypatch):
        from billing.panels import find_invoices
        from crm import search as crm_search

        number = book["acme_open"].number
        assert list(find_invoices(rep, number.lower()).values_list("pk", flat=True))[:1] == [book["acme_open"].pk]
        by_customer = set(find_invoices(rep, "globex").values_list("pk", flat=True))
        assert by_customer == {book["globex_open"].pk}
        # A word more customers share than CUSTOMERS_FOR_RECORDS names no invoice: numbers only.
        CustomerFactory(name="Globex Two")
        monkeypatch.setattr(crm_search, "CUSTOMERS_FOR_RECORDS", 1)
        assert not find_invoices(rep, "globex").exists()
