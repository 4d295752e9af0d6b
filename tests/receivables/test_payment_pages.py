"""Payment pages: the list (filters, totals of the filtered set, CSV, a pinned query
count), "Record payment" with its live allocation preview, the payment's page
(allocate, take back, void), the invoice page's Payments panel and global search."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice
from collaboration.models import ApprovalRequest
from core.search import search
from receivables import services
from receivables.models import Allocation, Payment, WriteOff
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

D = Decimal
LIST = reverse("receivables:payment_list")
NEW = reverse("receivables:payment_create")
TODAY = date.today()


def pay(clerk, customer, amount, *, on=TODAY, reference="", allocations=None):
    data = {"received_on": on, "amount": amount, "method": "bank_transfer", "reference": reference}
    return services.record_payment(customer=customer, by=clerk, data=data, allocations=allocations)


def detail(payment):
    return reverse("receivables:payment_detail", args=[payment.pk])


def fresh(record):
    record.refresh_from_db()
    return record


def shown(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


@pytest.fixture
def book(clerk, rep, other_rep, issue, customer):
    """Payments of two customers (owned by two reps), in EUR and USD, one void."""
    globex = CustomerFactory(owner=other_rep, name="Globex Corp", currency="USD")
    issue("500.00", on=TODAY - timedelta(days=40))
    acme_wire = pay(clerk, customer, "300.00", reference="WIRE-778")
    acme_cheque = pay(clerk, customer, "120.00", on=TODAY - timedelta(days=20))
    acme_void = pay(clerk, customer, "50.00")
    services.void_payment(payment=acme_void, by=clerk, reason="Bounced")
    globex_card = services.record_payment(
        customer=globex, by=clerk, data={"received_on": TODAY, "amount": "75.00", "method": "card"}
    )
    return {
        "acme": customer,
        "globex": globex,
        "acme_wire": acme_wire,
        "acme_cheque": acme_cheque,
        "acme_void": fresh(acme_void),
        "globex_card": globex_card,
    }


class TestPaymentList:
    def test_finance_sees_every_payment_and_a_rep_only_their_customers(self, signed_in, book):
        assert set(shown(signed_in("clerk").get(LIST))) == {book[k].pk for k in book if k not in ("acme", "globex")}
        assert set(shown(signed_in("rep").get(LIST))) == {
            book["acme_wire"].pk,
            book["acme_cheque"].pk,
            book["acme_void"].pk,
        }

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("q=WIRE-778", ["acme_wire"]),
            ("q=globex", ["globex_card"]),
            ("method=card", ["globex_card"]),
            ("status=void", ["acme_void"]),
            (f"received_to={TODAY - timedelta(days=1):%Y-%m-%d}", ["acme_cheque"]),
        ],
    )
    def test_filters(self, signed_in, book, query, expected):
        response = signed_in("clerk").get(f"{LIST}?{query}")
        assert sorted(shown(response)) == sorted(book[key].pk for key in expected)

    def test_filter_by_customer_names_it(self, signed_in, book):
        response = signed_in("clerk").get(f"{LIST}?customer={book['globex'].pk}")
        assert shown(response) == [book["globex_card"].pk]
        assert "Globex Corp" in parse(response.text).by_id("customer-filter").text

    def test_a_bad_filter_says_so_and_lists_nothing(self, signed_in, book):
        response = signed_in("clerk").get(f"{LIST}?received_from=yesterday&customer=abc")
        assert response.status_code == 200
        assert parse(response.text).by_id("filter-errors")

    def test_totals_are_of_the_filtered_set_per_currency_without_void_payments(self, signed_in, book):
        client = signed_in("clerk")
        assert parse(client.get(LIST).text).by_id("list-summary").attrs["hx-get"] == "?_part=summary"
        summary = parse(f"<div>{client.get(f'{LIST}?_part=summary').text}</div>")
        assert "4 payments" in summary.text  # the void one is counted, not summed
        assert " ".join(summary.by_id("received-totals").text.split()) == "Received: 420.00 EUR · 75.00 USD"
        # Both EUR payments went to the 500.00 invoice; the USD one is not applied yet.
        assert " ".join(summary.by_id("unapplied-totals").text.split()) == "Unapplied: 0.00 EUR · 75.00 USD"

    def test_the_csv_export_is_the_filtered_set(self, signed_in, book):
        response = signed_in("clerk").get(f"{LIST}?_export=csv&status=posted")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:3] == ["Number", "Status", "Customer"]
        numbers = sorted(row[0] for row in rows[1:])
        assert numbers == sorted(book[k].number for k in ("acme_wire", "acme_cheque", "globex_card"))

    def test_the_page_costs_the_same_queries_for_few_or_many_payments(
        self, signed_in, clerk, customer, django_assert_num_queries
    ):
        client = signed_in("clerk")
        for _ in range(3):
            pay(clerk, customer, "10.00")
        client.get(LIST)  # warm: session, permissions
        with django_assert_num_queries(2) as few:  # user, rows; the totals come after (htmx)
            client.get(LIST)
        for _ in range(20):
            pay(clerk, CustomerFactory(), "10.00")
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(LIST).context["table"].page.object_list) == 23

    def test_only_finance_sees_record_payment(self, signed_in, book):
        assert not parse(signed_in("rep").get(LIST).text).find_all(id="record-payment")
        assert parse(signed_in("clerk").get(LIST).text).by_id("record-payment")

    def test_who_reads_no_payments_gets_403(self, signed_in):
        assert signed_in("outsider").get(LIST).status_code == 403


class TestRecordPayment:
    def test_without_a_customer_it_finds_one(self, signed_in, customer):
        page = parse(signed_in("clerk").get(f"{NEW}?q=Acme").text)
        assert f"?customer={customer.pk}" in page.by_id("customers-found").find("a").attrs["href"]

    def test_the_preview_shows_the_open_invoices_oldest_due_first(self, signed_in, customer, issue):
        newer = issue("300.00", on=TODAY - timedelta(days=5))
        older = issue("200.00", on=TODAY - timedelta(days=50))
        response = signed_in("clerk").get(f"{NEW}?customer={customer.pk}")
        rows = parse(response.text).by_id("preview-table").find("tbody").find_all(tag="tr")
        assert [row.attrs["id"] for row in rows] == [f"preview-invoice-{older.pk}", f"preview-invoice-{newer.pk}"]

    def test_typing_the_amount_updates_the_shares_and_what_is_left(self, signed_in, customer, issue):
        newer = issue("300.00", on=TODAY - timedelta(days=5))
        older = issue("200.00", on=TODAY - timedelta(days=50))
        response = signed_in("clerk").post(
            NEW,
            {"customer": customer.pk, "amount": "350.00", "mode": "auto", "_part": "figures"},
            headers={"HX-Request": "true"},
        )
        page = parse(response.text)
        assert page.by_id(f"share-{older.pk}").text.strip() == "200.00 EUR"
        assert page.by_id(f"share-{newer.pk}").text.strip() == "150.00 EUR"
        assert page.by_id("preview-remaining").text.strip() == "0.00 EUR"
        assert not Payment.objects.exists()

    def test_by_hand_the_remaining_follows_what_is_typed_and_too_much_is_flagged(self, signed_in, customer, issue):
        invoice = issue("200.00")
        client = signed_in("clerk")
        preview = client.post(
            NEW,
            {"customer": customer.pk, "amount": "100.00", "mode": "manual", "_part": "preview"},
            headers={"HX-Request": "true"},
        )
        assert parse(preview.text).by_id(f"id_alloc_{invoice.pk}")
        figures = client.post(
            NEW,
            {
                "customer": customer.pk,
                "amount": "100.00",
                "mode": "manual",
                f"alloc_{invoice.pk}": "60",
                "_part": "figures",
            },
            headers={"HX-Request": "true"},
        )
        assert parse(figures.text).by_id("preview-remaining").text.strip() == "40.00 EUR"
        over = client.post(
            NEW,
            {
                "customer": customer.pk,
                "amount": "100.00",
                "mode": "manual",
                f"alloc_{invoice.pk}": "250",
                "_part": "figures",
            },
            headers={"HX-Request": "true"},
        )
        assert "left to pay" in parse(over.text).by_id(f"alloc-{invoice.pk}-error").text

    def test_it_records_the_payment_oldest_due_first(self, signed_in, customer, issue):
        invoice = issue("200.00")
        response = signed_in("clerk").post(
            NEW,
            {
                "customer": customer.pk,
                "received_on": TODAY.isoformat(),
                "amount": "250.00",
                "method": "bank_transfer",
                "reference": "WIRE-1",
                "mode": "auto",
            },
        )
        payment = Payment.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(payment)
        assert fresh(invoice).status == Invoice.Status.PAID and payment.unapplied == D("50.00")

    def test_by_hand_over_two_invoices(self, signed_in, customer, issue):
        first, second = issue("200.00"), issue("300.00")
        signed_in("clerk").post(
            NEW,
            {
                "customer": customer.pk,
                "received_on": TODAY.isoformat(),
                "amount": "250.00",
                "method": "cheque",
                "mode": "manual",
                f"alloc_{first.pk}": "50",
                f"alloc_{second.pk}": "200",
            },
        )
        assert (fresh(first).balance_due, fresh(second).balance_due) == (D("150.00"), D("100.00"))

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"amount": "0"}, "amount"),
            ({"amount": "-5"}, "amount"),
            ({"amount": "lots"}, "amount"),
            ({"received_on": (TODAY + timedelta(days=3)).isoformat()}, "received_on"),
            ({"method": "barter"}, "method"),
        ],
    )
    def test_bad_input_is_an_error_next_to_the_field_and_nothing_saved(self, signed_in, customer, changes, field):
        data = {"customer": customer.pk, "received_on": TODAY.isoformat(), "amount": "10", "method": "card"}
        data["mode"] = "auto"
        response = signed_in("clerk").post(NEW, {**data, **changes})
        assert response.status_code == 400
        assert response.context["form"].errors[field]
        assert not Payment.objects.exists()

    def test_a_rep_may_not(self, signed_in, customer):
        assert signed_in("rep").get(f"{NEW}?customer={customer.pk}").status_code == 403


class TestPaymentPage:
    def test_it_shows_the_allocations_and_the_feed(self, signed_in, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "150.00")
        page = parse(signed_in("rep").get(detail(payment)).text)
        assert invoice.number in page.by_id("allocations-table").text
        assert page.by_id("payment-unapplied").text.strip() == "50.00 EUR"
        assert not page.find_all(id="allocate-panel") and not page.find_all(id="void-payment")

    def test_another_reps_customers_payment_is_404(self, signed_in, clerk, other_rep):
        payment = pay(clerk, CustomerFactory(owner=other_rep), "10.00")
        assert signed_in("rep").get(detail(payment)).status_code == 404

    def test_allocate_by_hand_then_take_it_back(self, signed_in, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        invoice = issue("80.00")
        client = signed_in("clerk")
        assert parse(client.get(detail(payment)).text).by_id(f"id_alloc_{invoice.pk}")
        client.post(
            reverse("receivables:payment_allocate", args=[payment.pk]),
            {f"alloc_{invoice.pk}": "30", "version": payment.version},
        )
        assert fresh(invoice).balance_due == D("50.00")
        allocation = Allocation.objects.get()
        client.post(reverse("receivables:payment_unallocate", args=[payment.pk]), {"allocation": allocation.pk})
        assert fresh(invoice).balance_due == D("80.00") and fresh(payment).unapplied == D("100.00")
        assert fresh(allocation).reversed_on is not None

    def test_allocate_oldest_due_first(self, signed_in, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        invoice = issue("80.00")
        signed_in("clerk").post(reverse("receivables:payment_allocate", args=[payment.pk]), {"auto": "1"})
        assert fresh(invoice).status == Invoice.Status.PAID and fresh(payment).unapplied == D("20.00")

    def test_more_than_the_balance_is_an_error_next_to_the_invoice(self, signed_in, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        invoice = issue("80.00")
        response = signed_in("clerk").post(
            reverse("receivables:payment_allocate", args=[payment.pk]), {f"alloc_{invoice.pk}": "90"}
        )
        assert response.status_code == 400
        assert "left to pay" in parse(response.text).by_id(f"id_alloc_{invoice.pk}_error").text
        assert not Allocation.objects.exists()

    def test_a_stale_version_allocates_nothing(self, signed_in, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        invoice = issue("80.00")
        response = signed_in("clerk").post(
            reverse("receivables:payment_allocate", args=[payment.pk]),
            {f"alloc_{invoice.pk}": "10", "version": payment.version + 1},
            follow=True,
        )
        assert "changed by someone else" in response.text
        assert not Allocation.objects.exists()

    def test_void_needs_a_reason_and_reverses_the_allocations(self, signed_in, clerk, customer, issue):
        invoice = issue("80.00")
        payment = pay(clerk, customer, "80.00")
        client = signed_in("clerk")
        url = reverse("receivables:payment_void", args=[payment.pk])
        assert client.post(url, {"reason": ""}).status_code == 400
        client.post(url, {"reason": "Bounced"})
        assert fresh(payment).is_void and fresh(invoice).balance_due == D("80.00")
        again = client.post(url, {"reason": "Twice"}, follow=True)
        assert "void already" in again.text


class TestInvoicePaymentsPanel:
    def test_the_invoice_shows_its_payments_and_finance_may_record_one(self, signed_in, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "40.00", reference="WIRE-9")
        url = reverse("billing:invoice_detail", args=[invoice.pk])
        page = parse(signed_in("clerk").get(url).text)
        assert payment.number in page.by_id("invoice-allocations").text
        assert f"customer={customer.pk}" in page.by_id("invoice-record-payment").attrs["href"]
        assert not page.find_all(id="write-off")  # 60.00 left: more than the write-off limit
        rep_page = parse(signed_in("rep").get(url).text)
        assert rep_page.by_id("invoice-allocations") and not rep_page.find_all(id="invoice-record-payment")

    def test_another_reps_invoice_shows_no_payments(self, signed_in, clerk, other_rep, issue):
        invoice = issue("100.00", who=CustomerFactory(owner=other_rep))
        page = parse(signed_in("rep").get(reverse("billing:invoice_detail", args=[invoice.pk])).text)
        assert not page.find_all(id="payments-panel")

    def test_a_small_balance_is_written_off_through_an_approval(self, signed_in, clerk, customer, issue):
        invoice = issue("100.00")
        pay(clerk, customer, "95.00")
        client = signed_in("clerk")
        assert parse(client.get(reverse("billing:invoice_detail", args=[invoice.pk])).text).by_id("write-off")
        client.post(reverse("receivables:invoice_write_off", args=[invoice.pk]), {"reason": "Bank fees"})
        assert WriteOff.objects.get().amount == D("5.00")
        assert ApprovalRequest.objects.filter(kind=services.WRITE_OFF_APPROVAL).exists()

    def test_a_rep_may_not_write_off(self, signed_in, clerk, customer, issue):
        invoice = issue("100.00")
        pay(clerk, customer, "95.00")
        response = signed_in("rep").post(reverse("receivables:invoice_write_off", args=[invoice.pk]), {"reason": "x"})
        assert response.status_code == 403 and not WriteOff.objects.exists()


class TestGlobalSearch:
    def test_payments_are_found_by_number_reference_and_customer(self, clerk, rep, other_rep, customer):
        mine = pay(clerk, customer, "10.00", reference="WIRE-4711")
        theirs = pay(clerk, CustomerFactory(owner=other_rep, name="Initech"), "10.00")

        def found(user, query):
            groups = {group.provider.key: group for group in search(user, query)}
            return [result.title for result in groups["payments"].results] if "payments" in groups else []

        assert found(clerk, "WIRE-4711") == [mine.number]
        assert found(clerk, theirs.number) == [theirs.number]
        assert found(clerk, "Initech") == [theirs.number]
        assert found(rep, "Acme") == [mine.number]
        assert found(rep, "Initech") == []


class TestJunk:
    """The form fuzzer (tests/test_form_fuzz.py) reaches these pages without records;
    here every field of each payment form gets each junk value with real records behind."""

    def test_junk_in_any_payment_form_is_never_a_server_error(self, signed_in, clerk, customer, issue):
        from tests.test_form_fuzz import JUNK

        invoice = issue("100.00")
        payment = pay(clerk, customer, "50.00", allocations=[])
        allocation_source = pay(clerk, customer, "10.00")
        client = signed_in("clerk")
        client.raise_request_exception = False
        forms = {
            NEW: {
                "customer": str(customer.pk),
                "received_on": TODAY.isoformat(),
                "amount": "10",
                "method": "card",
                "reference": "R",
                "notes": "N",
                "mode": "manual",
                f"alloc_{invoice.pk}": "5",
            },
            reverse("receivables:payment_allocate", args=[payment.pk]): {f"alloc_{invoice.pk}": "5", "version": "1"},
            reverse("receivables:payment_unallocate", args=[allocation_source.pk]): {
                "allocation": str(allocation_source.allocations.get().pk)
            },
            reverse("receivables:payment_void", args=[payment.pk]): {"reason": "R", "version": "1"},
            reverse("receivables:invoice_write_off", args=[invoice.pk]): {"reason": "R"},
        }
        failures = []
        for url, fields in forms.items():
            for name in fields:
                for junk in JUNK:
                    parts = ({}, {"_part": "figures"}, {"_part": "preview"}) if url == NEW else ({},)
                    for extra in parts:
                        response = client.post(url, {**fields, name: junk, **extra}, headers={"HX-Request": "true"})
                        if response.status_code >= 500:
                            failures.append(f"{url} {name}={junk[:20]!r} {extra}: {response.status_code}")
        assert not failures, failures[:10]
