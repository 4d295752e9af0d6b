"""The invoices API: from a won deal to a sent PDF and a credit note, and every piece
of bad input refused with a clear 400/409 (or 412 for a stale ETag), with nothing
half-written and no number consumed."""

import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.models import CreditNote, Invoice
from collaboration.models import FeedItem
from core import documents
from core.models import Document, Sequence
from crm import opportunities
from tests.billing.conftest import vat, won_deal  # noqa: F401 (fixtures)
from tests.factories import CustomerFactory, ProductFactory

from .helpers import error_of

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
CREDIT_NOTES = "/api/v1/credit-notes/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def invoice_deal_url(deal) -> str:
    return f"/api/v1/opportunities/{deal.pk}/invoice/"


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def no_number_taken() -> bool:
    return not Sequence.objects.filter(key__in=["INV", "CN"], last__gt=0).exists()


@pytest.fixture
def draft(rep, won_deal):  # noqa: F811
    """The won deal's draft invoice: 875.92 net, 166.42 VAT, 1042.34."""
    return services.invoice_opportunity(opportunity=won_deal, by=rep)


@pytest.fixture
def issued(draft, clerk):
    return services.issue_invoice(invoice=draft, by=clerk)


# --- the whole flow ------------------------------------------------------------------------


def test_from_a_won_deal_to_a_sent_pdf_and_a_credit_note(
    as_actor,
    won_deal,  # noqa: F811
    vat,  # noqa: F811
    customer,
    smtp_inbox,
    django_capture_on_commit_callbacks,
):
    client = as_actor("clerk")

    # One click: the deal's lines, prices, discounts and terms (net 45), linked both ways.
    drafted = client.post(invoice_deal_url(won_deal), {})
    assert drafted.status_code == 201, drafted.json()
    body = drafted.json()
    assert (body["status"], body["number"], body["opportunity"]) == ("draft", None, won_deal.pk)
    assert (body["payment_terms"], body["payment_days"], body["total"]) == ("net", 45, "1042.34")
    assert [line["amount"] for line in body["lines"]] == ["1.01", "874.91"]
    assert body["pdf_status"] == "" and drafted["ETag"] == '"1"'
    url = f"{INVOICES}{body['id']}/"

    # The draft's notes and lines change together, guarded by its ETag.
    lines = [
        {key: line[key] for key in ("description", "quantity", "unit_price", "discount_percent", "tax_rate")}
        for line in body["lines"]
    ]
    lines.append({"description": "Installation", "quantity": "1", "unit_price": "200.00", "tax_rate": vat.pk})
    patched = client.patch(url, {"notes": "PO 4711", "lines": lines}, HTTP_IF_MATCH=drafted["ETag"])
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["notes"], patched.json()["total"]) == ("PO 4711", "1280.34")
    assert client.patch(url, {"notes": "stale"}, HTTP_IF_MATCH=drafted["ETag"]).status_code == 412

    # Issued: numbered, due in 45 days, its PDF on the way.
    with django_capture_on_commit_callbacks(execute=False):
        issued = client.post(f"{url}issue/", HTTP_IF_MATCH=patched["ETag"])
    assert issued.status_code == 200, issued.json()
    today = timezone.localdate()
    number = f"INV-{today.year}-000001"
    assert (issued.json()["number"], issued.json()["status"]) == (number, "issued")
    assert issued.json()["due_date"] == str(today + timedelta(days=45))
    assert issued.json()["pdf_status"] == "pending"

    pending = client.get(f"{url}pdf/", HTTP_ACCEPT="application/pdf")
    assert pending.status_code == 409 and pending["Retry-After"] == "2"
    assert pending["Content-Type"] == "application/json"  # an error is JSON, whatever was asked for
    assert pending.json()["error"]["status"] == "pending"
    documents.render(Document.objects.get(kind=services.INVOICE_DOCUMENT).pk)
    ready = client.get(f"{url}pdf/", HTTP_ACCEPT="application/pdf")
    assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in ready["Content-Disposition"]
    text = pdf_text(b"".join(ready.streaming_content))
    assert number in text and customer.billing_name in text

    # Sent once, to the customer's invoice address, with the stored PDF.
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{url}send/", {})
    assert sent.status_code == 200, sent.json()
    assert sent.json()["sent_to"] == customer.email
    (message,) = smtp_inbox.wait_for(1)
    assert message["X-Envelope-To"] == customer.email
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{number}.pdf"
    assert number in pdf_text(attachment.get_content())
    again = client.post(f"{url}send/", {"to": "ap@acme.example"})
    assert again.status_code == 409 and "Confirm" in error_of(again)["message"]
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(f"{url}send/", {"to": "ap@acme.example", "resend": True})
    assert resent.status_code == 200 and resent.json()["sent_to"] == "ap@acme.example"

    # Corrected with a credit note: its own number, the balance reduced.
    installation = next(line for line in issued.json()["lines"] if line["description"] == "Installation")
    with django_capture_on_commit_callbacks(execute=True):
        credited = client.post(
            f"{url}credit/",
            {"reason": "Installation not needed", "lines": [{"invoice_line": installation["id"], "quantity": "1"}]},
        )
    assert credited.status_code == 201, credited.json()
    note = credited.json()
    assert (note["number"], note["total"], note["invoice"]) == (f"CN-{today.year}-000001", "238.00", body["id"])
    after = client.get(url).json()
    assert (after["amount_credited"], after["balance_due"]) == ("238.00", "1042.34")
    assert [item["number"] for item in after["credit_notes"]] == [note["number"]]
    assert client.get(f"{CREDIT_NOTES}{note['id']}/").json()["lines"][0]["invoice_line"] == installation["id"]
    note_pdf = client.get(f"{CREDIT_NOTES}{note['id']}/pdf/", HTTP_ACCEPT="application/pdf")
    assert note_pdf.status_code == 200
    assert note["number"] in pdf_text(b"".join(note_pdf.streaming_content))

    verbs = set(FeedItem.objects.values_list("verb", flat=True))
    assert {"invoice.drafted", "invoice.issued", "invoice.sent", "credit_note.issued"} <= verbs


def test_a_clerk_drafts_an_invoice_without_a_deal(as_actor, customer, vat):  # noqa: F811
    product = ProductFactory(name="Support hours", unit_price=Decimal("80.00"), default_tax_rate=vat)
    response = as_actor("clerk").post(
        INVOICES,
        {
            "customer": customer.pk,
            "payment_terms": "eom",
            "payment_days": 15,
            "notes": "Thank you",
            "lines": [
                {"product": product.pk, "quantity": "2.5"},
                {"description": "Travel", "quantity": "1", "unit_price": "49.99"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["customer"], body["payment_terms"], body["payment_days"], body["currency"]) == (
        customer.pk,
        "eom",
        15,
        "EUR",
    )
    assert [(line["description"], line["amount"], line["tax_rate"]) for line in body["lines"]] == [
        ("Support hours", "200.00", vat.pk),
        ("Travel", "49.99", None),
    ]
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("249.99", "38.00", "287.99")
    assert response["ETag"] == '"1"'


def test_a_deposit_then_the_rest_through_the_api(as_actor, won_deal):  # noqa: F811
    client = as_actor("rep")  # the deal's owner may draft its invoices
    deposit = client.post(invoice_deal_url(won_deal), {"percent": "30"})
    assert deposit.status_code == 201, deposit.json()
    assert deposit.json()["subtotal"] == "262.78"
    rest = client.post(invoice_deal_url(won_deal), {"remaining": True})
    assert rest.status_code == 201 and rest.json()["subtotal"] == "613.14"
    full = client.post(invoice_deal_url(won_deal), {})
    assert full.status_code == 409 and "invoiced in full" in error_of(full)["message"]
    listed = client.get(INVOICES, {"opportunity": won_deal.pk}).json()["results"]
    assert sorted(row["id"] for row in listed) == sorted([deposit.json()["id"], rest.json()["id"]])


# --- bad input: refused, nothing half-written, no number taken ---------------------------------


def test_issuing_an_empty_invoice_is_400_and_takes_no_number(as_actor, customer):
    client = as_actor("clerk")
    created = client.post(INVOICES, {"customer": customer.pk})
    assert created.status_code == 201 and created.json()["lines"] == []
    response = client.post(f"{INVOICES}{created.json()['id']}/issue/")
    assert response.status_code == 400
    assert "at least one line" in error_of(response)["message"]
    assert Invoice.objects.get().is_draft and no_number_taken()


def test_a_zero_total_is_400_and_takes_no_number(as_actor, customer):
    client = as_actor("clerk")
    created = client.post(
        INVOICES, {"customer": customer.pk, "lines": [{"description": "Sample", "quantity": "1", "unit_price": "0.00"}]}
    )
    response = client.post(f"{INVOICES}{created.json()['id']}/issue/")
    assert response.status_code == 400 and "more than 0" in error_of(response)["message"]
    assert no_number_taken()


@pytest.mark.parametrize("quantity", ["-1", "0"])
def test_a_negative_or_zero_quantity_is_400_and_nothing_is_saved(as_actor, customer, draft, quantity):
    client = as_actor("clerk")
    line = {"description": "Widgets", "quantity": quantity, "unit_price": "10.00"}
    response = client.post(INVOICES, {"customer": customer.pk, "lines": [line]})
    assert response.status_code == 400
    assert "more than 0" in " ".join(error_of(response)["fields"]["lines"])
    assert Invoice.objects.count() == 1  # only the draft of the fixture

    # A PATCH of notes and a bad line changes neither.
    before = [(line.description, line.amount) for line in draft.lines.all()]
    response = client.patch(f"{INVOICES}{draft.pk}/", {"notes": "changed", "lines": [line]})
    assert response.status_code == 400
    draft.refresh_from_db()
    assert (draft.notes, draft.version) == ("", 1)
    assert [(line.description, line.amount) for line in draft.lines.all()] == before


def test_editing_an_issued_invoice_is_409(as_actor, issued):
    client = as_actor("clerk")
    url = f"{INVOICES}{issued.pk}/"
    for body in ({"notes": "changed"}, {"lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]}, {}):
        response = client.patch(url, body)
        assert response.status_code == 409, body
        assert error_of(response)["code"] == "conflict"
        assert "credit note" in error_of(response)["message"]
    assert client.post(f"{url}issue/").status_code == 409
    issued.refresh_from_db()
    assert (issued.notes, issued.total, issued.lines.count()) == ("", Decimal("1042.34"), 2)
    assert Sequence.objects.get(key="INV").last == 1


def test_voiding_a_paid_invoice_is_409_and_a_void_one_keeps_its_number(as_actor, issued, clerk):
    client = as_actor("finance_manager")
    url = f"{INVOICES}{issued.pk}/"
    assert client.post(f"{url}void/", {}).status_code == 400  # no reason
    Invoice.objects.filter(pk=issued.pk).update(amount_paid=issued.total, balance_due=0, status="paid")
    response = client.post(f"{url}void/", {"reason": "Wrong customer"})
    assert response.status_code == 409 and "payments" in error_of(response)["message"]
    assert Invoice.objects.get(pk=issued.pk).status == "paid"

    other = services.issue_invoice(
        invoice=services.create_invoice(
            by=clerk, customer=issued.customer, lines=[{"description": "x", "quantity": 1, "unit_price": 10}]
        ),
        by=clerk,
    )
    voided = client.post(f"{INVOICES}{other.pk}/void/", {"reason": "Wrong customer"})
    assert voided.status_code == 200
    assert (voided.json()["status"], voided.json()["number"], voided.json()["void_reason"]) == (
        "void",
        other.number,
        "Wrong customer",
    )
    assert client.post(f"{INVOICES}{other.pk}/void/", {"reason": "again"}).status_code == 409
    assert as_actor("clerk").post(f"{INVOICES}{issued.pk}/void/", {"reason": "x"}).status_code == 403


def test_crediting_more_than_the_balance_is_400_and_takes_no_number(as_actor, issued):
    client = as_actor("clerk")
    url = f"{INVOICES}{issued.pk}/credit/"
    widgets, licences = issued.lines.all()
    too_many = client.post(url, {"reason": "Returned", "lines": [{"invoice_line": licences.pk, "quantity": "11"}]})
    assert too_many.status_code == 400
    assert "at most 10" in " ".join(error_of(too_many)["fields"]["lines"])
    foreign = client.post(url, {"reason": "Returned", "lines": [{"invoice_line": 2**62, "quantity": "1"}]})
    assert foreign.status_code == 400
    for body in (
        {"reason": "x", "lines": []},
        {"reason": " ", "lines": None},
        {"lines": [{"invoice_line": widgets.pk}]},
    ):
        assert client.post(url, body).status_code == 400, body

    # 1000 of 1042.34 paid: crediting everything would exceed the 42.34 still due.
    Invoice.objects.filter(pk=issued.pk).update(
        amount_paid=Decimal("1000.00"), balance_due=Decimal("42.34"), status="partially_paid"
    )
    response = client.post(url, {"reason": "Cancelled"})
    assert response.status_code == 400 and "exceed the invoice's balance due" in error_of(response)["message"]
    issued.refresh_from_db()
    assert (issued.amount_credited, issued.balance_due) == (Decimal("0.00"), Decimal("42.34"))
    assert not CreditNote.objects.exists() and not Sequence.objects.filter(key="CN").exists()


def test_a_deal_that_is_not_won_is_409_and_more_than_its_amount_400(as_actor, rep, customer, won_deal):  # noqa: F811
    client = as_actor("rep")
    open_deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Open", "expected_close_date": date(2027, 3, 31)},
        lines=[{"description": "x", "quantity": 1, "unit_price": 10}],
    )
    response = client.post(invoice_deal_url(open_deal), {})
    assert response.status_code == 409 and "won deal" in error_of(response)["message"]

    assert client.post(invoice_deal_url(won_deal), {"percent": "30"}).status_code == 201
    more = client.post(invoice_deal_url(won_deal), {"percent": "80"})
    assert more.status_code == 400
    assert "more than the 613.14 left" in error_of(more)["fields"]["percent"][0]
    for body in ({"percent": "0"}, {"percent": "101"}, {"percent": 30}, {"percent": "30", "remaining": True}):
        assert client.post(invoice_deal_url(won_deal), body).status_code == 400, body
    assert client.post("/api/v1/opportunities/999999999/invoice/", {}).status_code == 404
    assert Invoice.objects.count() == 1


def test_an_unknown_customer_or_product_is_400_by_field(as_actor, customer):
    client = as_actor("clerk")
    unknown_customer = client.post(INVOICES, {"customer": 999999999})
    assert unknown_customer.status_code == 400
    assert set(error_of(unknown_customer)["fields"]) == {"customer"}
    unknown_product = client.post(
        INVOICES, {"customer": customer.pk, "lines": [{"product": 999999999, "quantity": "1"}]}
    )
    assert unknown_product.status_code == 400
    assert set(error_of(unknown_product)["fields"]) == {"lines"}
    unknown_tax = client.post(
        INVOICES,
        {
            "customer": customer.pk,
            "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00", "tax_rate": 0}],
        },
    )
    assert unknown_tax.status_code == 400
    assert not Invoice.objects.exists()


def test_other_bad_bodies_are_400(as_actor, customer, issued):
    client = as_actor("clerk")
    for body in (
        {"customer": customer.pk, "payment_terms": "net90"},
        {"customer": customer.pk, "payment_days": -1},
        {"customer": customer.pk, "lines": [{"description": "x", "quantity": 1, "unit_price": "1.00"}]},  # not a string
        {"customer": customer.pk, "lines": "none"},
    ):
        response = client.post(INVOICES, body)
        assert response.status_code == 400, (body, response.json())
    assert Invoice.objects.count() == 1
    assert client.post(f"{INVOICES}{issued.pk}/send/", {"to": "not an address"}).status_code == 400


def test_a_draft_has_no_pdf_and_a_failed_one_says_so(as_actor, draft, clerk):
    client = as_actor("rep")
    response = client.get(f"{INVOICES}{draft.pk}/pdf/")
    assert response.status_code == 409 and error_of(response)["code"] == "not_issued"
    assert not Document.objects.exists()

    services.issue_invoice(invoice=draft, by=clerk)
    Document.objects.update(status=Document.Status.FAILED, error="Font missing")
    failed = client.get(f"{INVOICES}{draft.pk}/pdf/")
    assert failed.status_code == 409
    assert failed.json()["error"]["status"] == "failed" and "Font missing" in failed.json()["error"]["message"]


@pytest.mark.parametrize("url", [f"{INVOICES}999999/pdf/?format=pdf", f"{CREDIT_NOTES}999999/pdf/?format=pdf"])
def test_a_missing_pdf_is_a_json_404_even_when_a_pdf_was_asked_for(as_actor, url):
    response = as_actor("clerk").get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


def test_sending_a_draft_is_409(as_actor, draft):
    response = as_actor("clerk").post(f"{INVOICES}{draft.pk}/send/", {})
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.sent_at is None


# --- who may, and what a read-only token may ---------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "read", "create", "issue"),
    [
        ("rep", 200, 403, 403),
        ("sales_manager", 200, 403, 403),
        ("clerk", 200, 201, 200),
        ("finance_manager", 200, 201, 200),
        ("outsider", 403, 403, 403),
    ],
)
def test_who_may_read_draft_and_issue(as_actor, customer, draft, actor, read, create, issue):
    client = as_actor(actor)
    assert client.get(INVOICES).status_code == read
    assert client.get(f"{INVOICES}{draft.pk}/").status_code == read
    assert client.get(CREDIT_NOTES).status_code == read
    assert client.post(INVOICES, {"customer": customer.pk}).status_code == create
    response = client.post(f"{INVOICES}{draft.pk}/issue/")
    assert response.status_code == issue
    if issue == 403:
        assert error_of(response)["code"] == "permission_denied"
        assert Invoice.objects.get(pk=draft.pk).is_draft and no_number_taken()


def test_a_read_only_token_reads_but_never_writes(as_actor, draft):
    client = as_actor("clerk", scope="read")
    assert client.get(f"{INVOICES}{draft.pk}/").status_code == 200
    assert client.post(f"{INVOICES}{draft.pk}/issue/").status_code == 403
    assert client.patch(f"{INVOICES}{draft.pk}/", {"notes": "x"}).status_code == 403
    assert no_number_taken()


def test_a_rep_invoices_only_their_own_won_deal(as_actor, won_deal):  # noqa: F811
    assert as_actor("other_rep").post(invoice_deal_url(won_deal), {}).status_code == 403
    assert as_actor("outsider").post(invoice_deal_url(won_deal), {}).status_code == 403
    assert not Invoice.objects.exists()
    assert as_actor("rep").post(invoice_deal_url(won_deal), {}).status_code == 201


# --- lists -------------------------------------------------------------------------------------


def test_lists_filter_by_status_customer_and_deal(as_actor, clerk, issued, customer, won_deal):  # noqa: F811
    client = as_actor("rep")
    other = services.create_invoice(by=clerk, customer=CustomerFactory(), lines=[])

    def ids(params):
        response = client.get(INVOICES, params)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert ids({"status": "issued"}) == [issued.pk]
    assert ids({"status": "draft"}) == [other.pk]
    assert ids({"customer": customer.pk}) == [issued.pk]
    assert ids({"opportunity": won_deal.pk}) == [issued.pk]
    assert ids({}) == sorted([issued.pk, other.pk])
    assert ids({"q": issued.number}) == [issued.pk]  # the page's filters too
    assert ids({"owner": customer.owner_id, "issued_from": str(issued.issue_date)}) == [issued.pk]
    assert ids({"overdue": "true"}) == []
    assert client.get(INVOICES, {"status": "lost"}).status_code == 400
    assert client.get(INVOICES, {"customer": 2**64}).status_code == 400


def test_the_list_costs_the_same_queries_for_3_or_30_invoices(as_actor, clerk, customer):
    client = as_actor("clerk")
    client.get(INVOICES)  # the token and permissions cached

    def add(count):
        for _ in range(count):
            services.create_invoice(
                by=clerk,
                customer=CustomerFactory(),
                lines=[{"description": "x", "quantity": "1", "unit_price": "1.00"}],
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(INVOICES, {"page_size": 50}).status_code == 200
        return len(captured)

    add(3)
    few = queries()
    add(27)
    assert queries() == few
