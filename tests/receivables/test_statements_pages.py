"""The statement page (/customers/<id>/statement/) and API (/api/v1/customers/{id}/statement/):
the preview, the PDF, emailing with confirmation, the monthly toggle, the 360's link,
who sees what, bad input as 400 and pinned query counts."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from core import documents
from core.tasks import render_document
from receivables import services, statements
from receivables.models import Standing, Statement
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AS_OF = "2026-06-30"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def ledger(issue, clerk, customer):
    """At AS_OF: 600.00 open (1,000.00 less 400.00 paid), 200.00 not yet due, 150.00 credit;
    a payment of the 200.00 after the day."""
    old = issue("1000.00", on=date(2026, 3, 1))
    new = issue("200.00", on=date(2026, 6, 20))
    data = {"received_on": date(2026, 4, 15), "amount": "400.00", "method": "bank_transfer"}
    services.record_payment(customer=customer, by=clerk, data=data, allocations=[(old, "400.00")])
    data = {"received_on": date(2026, 6, 10), "amount": "150.00", "method": "bank_transfer"}
    services.record_payment(customer=customer, by=clerk, data=data, allocations=[])
    data = {"received_on": date(2026, 7, 2), "amount": "200.00", "method": "bank_transfer"}
    services.record_payment(customer=customer, by=clerk, data=data, allocations=[(new, "200.00")])
    return {"old": old, "new": new}


def page_url(customer, **params):
    url = reverse("receivables:customer_statement", args=[customer.pk])
    return f"{url}?as_of={params.get('as_of', AS_OF)}"


def api_url(customer_pk, action=""):
    base = f"/api/v1/customers/{customer_pk}/statement/"
    return f"{base}{action}/" if action else base


# --- the page -------------------------------------------------------------------------------


class TestPage:
    def test_the_preview_shows_the_open_items_with_the_running_balance(self, signed_in, ledger, customer):
        response = signed_in("rep").get(page_url(customer))
        assert response.status_code == 200
        html = response.text
        assert ledger["old"].number in html and ledger["new"].number in html
        (eur,) = response.context["report"].currencies
        assert [str(item.balance) for item in eur.items] == ["600.00", "450.00", "650.00"]
        assert "Balance due" in html and "650.00" in html
        assert 'id="statement-send-form"' not in html  # a rep does not send
        assert 'id="statement-monthly-form"' not in html
        assert 'id="statement-pdf-form"' in html  # but may make the PDF

    def test_finance_managers_see_the_email_form_prefilled_and_the_monthly_toggle(self, signed_in, ledger, customer):
        response = signed_in("finance_manager").get(page_url(customer))
        assert response.context["send_form"].initial["to"] == customer.email
        assert 'id="statement-monthly-form"' in response.text

    def test_today_when_no_day_is_given(self, signed_in, customer):
        response = signed_in("rep").get(reverse("receivables:customer_statement", args=[customer.pk]))
        assert response.status_code == 200 and response.context["as_of"] is not None

    @pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday", "2999-12-31", "9" * 30, "2026-01-01\x00"])
    def test_a_bad_day_is_a_field_error(self, signed_in, customer, as_of):
        response = signed_in("rep").get(page_url(customer, as_of=as_of))
        assert response.status_code == 400
        assert "report" not in response.context and response.context["date_form"].errors["as_of"]

    @pytest.mark.parametrize(("actor", "status"), [("other_rep", 403), ("outsider", 404), ("clerk", 200)])
    def test_who_sees_it(self, signed_in, customer, actor, status):
        assert signed_in(actor).get(page_url(customer)).status_code == status

    def test_an_unknown_customer_is_404(self, signed_in):
        assert signed_in("clerk").get(reverse("receivables:customer_statement", args=[10**12])).status_code == 404

    def test_making_the_pdf_polls_then_offers_the_download(self, signed_in, ledger, customer):
        client = signed_in("rep")
        url = reverse("receivables:statement_pdf", args=[customer.pk])
        response = client.post(url, {"as_of": AS_OF}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and "Making the PDF" in response.text and "hx-get" in response.text
        statement = Statement.objects.get(customer=customer)
        document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
        render_document(document.pk)
        page = client.get(page_url(customer))
        assert "Download PDF" in page.text
        download = client.get(reverse("core:document_download", args=[document.pk]))
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert signed_in("other_rep").get(reverse("core:document_download", args=[document.pk])).status_code == 403

    def test_making_the_pdf_without_htmx_returns_to_the_page(self, signed_in, customer):
        response = signed_in("rep").post(reverse("receivables:statement_pdf", args=[customer.pk]), {"as_of": AS_OF})
        assert response.status_code == 302 and response["Location"].endswith(f"?as_of={AS_OF}")

    def test_sending_twice_asks_for_confirmation(self, signed_in, ledger, customer, django_capture_on_commit_callbacks):
        client = signed_in("finance_manager")
        url = reverse("receivables:statement_send", args=[customer.pk])
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(url, {"as_of": AS_OF, "to": customer.email})
        assert first.status_code == 302
        again = client.post(url, {"as_of": AS_OF, "to": customer.email})
        assert again.status_code == 400 and "Confirm to send it again" in again.text
        assert 'id="id_resend"' in again.text
        with django_capture_on_commit_callbacks(execute=True):
            confirmed = client.post(url, {"as_of": AS_OF, "to": "ap@acme.example", "resend": "on"})
        assert confirmed.status_code == 302
        assert Statement.objects.get().sent_to == "ap@acme.example"

    @pytest.mark.parametrize(
        "data", [{"as_of": AS_OF, "to": "nope"}, {"as_of": "2999-01-01", "to": "a@b.example"}, {}, {"to": "x" * 400}]
    )
    def test_bad_sending_input_is_a_400(self, signed_in, customer, data):
        response = signed_in("finance_manager").post(reverse("receivables:statement_send", args=[customer.pk]), data)
        assert response.status_code == 400
        assert not Statement.objects.filter(sent_at__isnull=False).exists()

    @pytest.mark.parametrize("actor", ["rep", "sales_manager"])
    def test_only_finance_sends(self, signed_in, customer, actor):
        url = reverse("receivables:statement_send", args=[customer.pk])
        response = signed_in(actor).post(url, {"as_of": AS_OF, "to": customer.email})
        assert response.status_code == 403

    def test_the_monthly_toggle(self, signed_in, customer):
        client = signed_in("finance_manager")
        url = reverse("receivables:statement_monthly", args=[customer.pk])
        assert client.post(url, {"monthly": "on"}).status_code == 302
        assert Standing.objects.get(customer=customer).monthly_statement is True
        client.post(url, {})
        assert Standing.objects.get(customer=customer).monthly_statement is False
        assert signed_in("rep").post(url, {"monthly": "on"}).status_code == 403

    def test_the_page_costs_the_same_queries_for_few_or_many_items(
        self, signed_in, issue, ledger, customer, django_assert_num_queries
    ):
        client = signed_in("finance_manager")
        url = page_url(customer)
        client.get(url)  # warm: session, permissions
        # user, customer, the statement row, open invoices, unapplied payments, the aging row, standing
        with django_assert_num_queries(7):
            client.get(url)
        for _ in range(15):
            issue("10.00", on=date(2026, 6, 1))
        with django_assert_num_queries(7):
            assert len(client.get(url).context["report"].currencies[0].items) == 18

    def test_the_customer_360_links_to_it(self, signed_in, customer):
        html = signed_in("rep").get(customer.get_absolute_url()).text
        assert reverse("receivables:customer_statement", args=[customer.pk]) in html
        other = CustomerFactory()
        assert 'id="statement-panel"' not in signed_in("rep").get(other.get_absolute_url()).text


# --- the API ----------------------------------------------------------------------------------


class TestAPI:
    def test_the_statement_as_json(self, token_client, rep, ledger, customer):
        response = token_client(rep, "read").get(api_url(customer.pk), {"as_of": AS_OF})
        assert response.status_code == 200
        body = response.json()
        assert (body["customer"], body["as_of"]) == (customer.pk, AS_OF)
        (eur,) = body["currencies"]
        assert [(item["kind"], item["open_amount"], item["balance"]) for item in eur["items"]] == [
            ("invoice", "600.00", "600.00"),
            ("payment", "-150.00", "450.00"),
            ("invoice", "200.00", "650.00"),
        ]
        first = eur["items"][0]
        assert (first["number"], first["due_date"], first["days_overdue"], first["bucket"]) == (
            ledger["old"].number,
            "2026-03-31",
            91,
            "over_90",
        )
        assert (eur["invoiced"], eur["credit"], eur["balance"], eur["overdue"]) == (
            "800.00",
            "150.00",
            "650.00",
            "600.00",
        )
        assert eur["aging"] == {
            "current": "200.00",
            "days_1_30": "0.00",
            "days_31_60": "0.00",
            "days_61_90": "0.00",
            "over_90": "600.00",
        }

    @pytest.mark.parametrize("as_of", ["2026-02-30", "soon", "2999-01-01", "2026-01-01\x00", "9" * 50, "", " "])
    @pytest.mark.parametrize("action", ["", "pdf"])
    def test_a_bad_or_empty_day_is_a_400(self, token_client, rep, customer, as_of, action):
        response = token_client(rep, "read").get(api_url(customer.pk, action), {"as_of": as_of})
        assert response.status_code == 400 and "as_of" in response.json()["error"]["fields"]
        assert not Statement.objects.exists()

    def test_left_out_the_day_is_today(self, token_client, rep, customer):
        response = token_client(rep, "read").get(api_url(customer.pk))
        assert response.status_code == 200 and response.json()["as_of"] == timezone.localdate().isoformat()

    @pytest.mark.parametrize("pk", ["0", "abc", "9" * 40, str(10**12)])
    def test_an_unknown_customer_is_404(self, token_client, clerk, pk):
        assert token_client(clerk, "read").get(api_url(pk)).status_code == 404

    @pytest.mark.parametrize(("actor", "status"), [("other_rep", 403), ("outsider", 404), ("sales_manager", 200)])
    def test_who_reads_it(self, token_client, actors, customer, actor, status):
        assert token_client(actors[actor], "read").get(api_url(customer.pk)).status_code == status

    def test_the_pdf_is_409_until_made_then_the_pdf(self, token_client, rep, ledger, customer):
        client = token_client(rep, "read")
        pending = client.get(api_url(customer.pk, "pdf"), {"as_of": AS_OF})
        assert pending.status_code == 409 and pending["Retry-After"] == "2"
        assert pending.json()["error"]["status"] == "pending"
        document = documents.document_for(Statement.objects.get(), statements.STATEMENT_DOCUMENT)
        render_document(document.pk)
        ready = client.get(api_url(customer.pk, "pdf"), {"as_of": AS_OF}, HTTP_ACCEPT="application/pdf")
        assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"
        assert b"".join(ready.streaming_content).startswith(b"%PDF")
        refreshed = client.get(api_url(customer.pk, "pdf"), {"as_of": AS_OF, "refresh": "true"})
        assert refreshed.status_code == 409

    def test_the_pdf_refuses_bad_input(self, token_client, rep, customer):
        client = token_client(rep, "read")
        assert client.get(api_url(customer.pk, "pdf"), {"as_of": "nope"}).status_code == 400
        assert client.get(api_url(customer.pk, "pdf"), {"refresh": "maybe"}).status_code == 400
        assert client.get(api_url(customer.pk, "pdf"), {"refresh": ""}).status_code == 400
        assert token_client(CustomerFactory().owner, "read").get(api_url(customer.pk, "pdf")).status_code == 403

    def test_sending(self, token_client, finance_manager, ledger, customer, django_capture_on_commit_callbacks):
        client = token_client(finance_manager)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(api_url(customer.pk, "send"), {"as_of": AS_OF}, format="json")
        assert response.status_code == 200
        assert (response.json()["sent_to"], response.json()["as_of"]) == (customer.email, AS_OF)
        again = client.post(api_url(customer.pk, "send"), {"as_of": AS_OF}, format="json")
        assert again.status_code == 409
        with django_capture_on_commit_callbacks(execute=True):
            resent = client.post(
                api_url(customer.pk, "send"), {"as_of": AS_OF, "to": "ap@acme.example", "resend": True}, format="json"
            )
        assert resent.status_code == 200 and resent.json()["sent_to"] == "ap@acme.example"

    @pytest.mark.parametrize(
        "body",
        [{"as_of": "2999-01-01"}, {"as_of": 5}, {"to": "nope"}, {"resend": "perhaps"}, {"as_of": "x" * 100}, []],
    )
    def test_bad_sending_input_is_a_400(self, token_client, finance_manager, customer, body):
        response = token_client(finance_manager).post(api_url(customer.pk, "send"), body, format="json")
        assert response.status_code == 400

    @pytest.mark.parametrize("actor", ["rep", "sales_manager"])
    def test_only_finance_sends(self, token_client, actors, customer, actor):
        response = token_client(actors[actor]).post(api_url(customer.pk, "send"), {"as_of": AS_OF}, format="json")
        assert response.status_code == 403

    def test_the_answer_costs_the_same_queries_for_few_or_many_items(
        self, token_client, rep, issue, ledger, customer, django_assert_max_num_queries
    ):
        client = token_client(rep, "read")
        client.get(api_url(customer.pk))
        # token, customer, open invoices, unapplied payments, aging row
        with django_assert_max_num_queries(6):
            client.get(api_url(customer.pk), {"as_of": AS_OF})
        for _ in range(15):
            issue("10.00", on=date(2026, 6, 1))
        with django_assert_max_num_queries(6):
            assert len(client.get(api_url(customer.pk), {"as_of": AS_OF}).json()["currencies"][0]["items"]) == 18
