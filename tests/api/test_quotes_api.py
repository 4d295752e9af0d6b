"""The quotes API: make from a deal, change a draft, send (409 once sent), accept,
decline, revise, the PDF (409 while pending), and who may."""

from datetime import date
from decimal import Decimal

import pytest

from core.models import Document
from crm import opportunities, quotes
from crm.models import Quote
from tests.factories import ContactFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

QUOTES = "/api/v1/quotes/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def deal(rep, customer):
    vat = TaxRateFactory(name="VAT 19%", percentage=Decimal("19"))
    deal = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)}
    )
    return opportunities.set_lines(
        opportunity=deal,
        by=rep,
        lines=[{"description": "Licences", "quantity": 2, "unit_price": "100.00", "tax_rate": vat.pk}],
    )


@pytest.fixture
def buyer(customer):
    return ContactFactory(customer=customer, name="Paula Buyer", email="paula@acme.example")


@pytest.fixture
def quote(rep, deal):
    return quotes.create_quote(opportunity=deal, by=rep)


def test_a_rep_makes_a_quote_of_their_deal(as_actor, deal, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_actor("rep").post(
            QUOTES, {"opportunity": deal.pk, "valid_until": "2099-01-31", "notes": "Thanks", "contact": buyer.pk}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("Q-") and body["status"] == "draft"
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("200.00", "38.00", "238.00")
    assert body["lines"][0]["tax_name"] == "VAT 19%"
    assert body["valid_until"] == "2099-01-31" and body["contact"] == buyer.pk


def test_a_deal_without_lines_is_400(as_actor, rep, customer):
    empty = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Empty", "expected_close_date": date(2027, 3, 31)}
    )
    response = as_actor("rep").post(QUOTES, {"opportunity": empty.pk})
    assert response.status_code == 400
    assert "Add at least one line" in response.json()["error"]["message"]


def test_a_draft_changes_and_a_sent_quote_is_409(
    as_actor, quote, buyer, smtp_inbox, django_capture_on_commit_callbacks
):
    client = as_actor("rep")
    url = f"{QUOTES}{quote.pk}/"
    assert client.patch(url, {"notes": "Delivery in May"}).json()["notes"] == "Delivery in May"
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{url}send/", {"contact": buyer.pk})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert smtp_inbox.wait_for(1)[0]["To"] == "paula@acme.example"
    response = client.patch(url, {"notes": "sneaky"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert client.post(f"{url}send/", {"email": "x@acme.example"}).status_code == 409
    assert client.post(f"{url}send/", {"email": "x@acme.example", "resend": True}).status_code == 200


def test_accept_decline_and_revise(as_actor, rep, quote, buyer):
    client = as_actor("rep")
    url = f"{QUOTES}{quote.pk}/"
    assert client.post(f"{url}accept/").status_code == 409  # a draft
    quotes.send_quote(quote=quote, by=rep, contact=buyer)
    assert client.post(f"{url}decline/", {"reason": "Budget"}).json()["status"] == "declined"
    revised = client.post(f"{url}revise/")
    assert revised.status_code == 201
    assert (revised.json()["revision"], revised.json()["supersedes"]) == (2, quote.pk)
    assert client.get(url).json()["status"] == "superseded"


def test_the_pdf_is_409_while_pending_then_the_file(as_actor, quote):
    client = as_actor("clerk")
    url = f"{QUOTES}{quote.pk}/pdf/"
    pending = client.get(url)
    assert pending.status_code == 409
    assert pending.json()["error"]["status"] == "pending"
    assert pending["Retry-After"] == "2"
    document = Document.objects.get()
    from core import documents

    documents.render(document.pk)
    ready = client.get(url, HTTP_ACCEPT="application/pdf")
    assert ready.status_code == 200
    assert ready["Content-Type"] == "application/pdf"
    assert b"".join(ready.streaming_content).startswith(b"%PDF")
    assert f'filename="{quote.number}.pdf"' in ready["Content-Disposition"]


def test_bad_send_input_is_400(as_actor, quote):
    client = as_actor("rep")
    assert client.post(f"{QUOTES}{quote.pk}/send/", {}).status_code == 400
    assert client.post(f"{QUOTES}{quote.pk}/send/", {"email": "nope"}).status_code == 400
    other = ContactFactory(email="x@elsewhere.example")
    assert client.post(f"{QUOTES}{quote.pk}/send/", {"contact": other.pk}).status_code == 400
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DRAFT


@pytest.mark.parametrize(
    ("actor", "read", "write"),
    [
        ("rep", 200, 200),
        ("other_rep", 200, 403),
        ("sales_manager", 200, 200),
        ("clerk", 200, 403),
        ("finance_manager", 200, 403),
        ("outsider", 403, 403),
    ],
)
def test_who_may_read_and_change_quotes(as_actor, quote, deal, actor, read, write):
    client = as_actor(actor)
    assert client.get(QUOTES).status_code == read
    assert client.get(f"{QUOTES}{quote.pk}/").status_code == read
    assert client.patch(f"{QUOTES}{quote.pk}/", {"notes": "x"}).status_code == write
    created = client.post(QUOTES, {"opportunity": deal.pk})
    assert created.status_code == (201 if write == 200 else 403)


def test_lists_filter_by_deal_and_status(as_actor, rep, quote, deal):
    client = as_actor("clerk")
    assert [row["id"] for row in client.get(QUOTES, {"opportunity": deal.pk}).json()["results"]] == [quote.pk]
    assert client.get(QUOTES, {"status": "sent"}).json()["results"] == []


def test_a_missing_quote_pdf_answers_in_json_even_when_the_pdf_was_asked_for(api_client, rep):
    api_client.force_authenticate(rep)
    response = api_client.get("/api/v1/quotes/999999/pdf/?format=pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
