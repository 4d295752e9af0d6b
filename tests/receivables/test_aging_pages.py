"""The aging pages: the report (chart, totals, per customer), the drill-down to a
bucket's invoices, the CSV exports, who sees what, bad dates and query counts."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from receivables import services
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

AGING = reverse("receivables:aging")
INVOICES = reverse("receivables:aging_invoices")
AS_OF = "2026-06-30"


@pytest.fixture
def book(issue, clerk, customer, other_rep):
    """Acme (the rep's): 100 current and 500 over 90 days at AS_OF, 30 unapplied;
    Globex (another rep's, USD): 250 in 31–60."""
    issue("100.00", on=date(2026, 6, 15))
    issue("500.00", on=date(2026, 2, 1))
    data = {"received_on": date(2026, 6, 1), "amount": "30.00", "method": "bank_transfer"}
    services.record_payment(customer=customer, by=clerk, data=data, allocations=[])
    globex = CustomerFactory(name="Globex Corp", currency="USD", owner=other_rep)
    issue("250.00", on=date(2026, 4, 20), who=globex)
    return globex


def rows_of(response):
    return [row["customer__name"] for row in response.context["page"].object_list]


class TestReport:
    def test_finance_sees_the_whole_book_per_currency(self, signed_in, book):
        response = signed_in("clerk").get(AGING, {"as_of": AS_OF})
        assert response.status_code == 200
        assert [(c["currency"], str(c["total"])) for c in response.context["charts"]] == [
            ("EUR", "600.00"),
            ("USD", "250.00"),
        ]
        assert rows_of(response) == ["Acme Industries GmbH", "Globex Corp"]
        page = parse(response.text)
        assert page.by_id("aging-chart-EUR") and page.by_id("aging-chart-USD")
        assert "30.00" in page.by_id("unapplied-credit").text

    def test_a_rep_sees_only_their_own_customers(self, signed_in, book):
        response = signed_in("rep").get(AGING, {"as_of": AS_OF})
        assert rows_of(response) == ["Acme Industries GmbH"]
        assert [c["currency"] for c in response.context["charts"]] == ["EUR"]
        assert "owner" not in response.context["form"].fields

    def test_the_owner_filter(self, signed_in, book, other_rep):
        response = signed_in("sales_manager").get(AGING, {"as_of": AS_OF, "owner": other_rep.pk})
        assert rows_of(response) == ["Globex Corp"]
        assert response.context["unapplied"] == []

    def test_the_customer_filter(self, signed_in, book, customer):
        response = signed_in("clerk").get(AGING, {"as_of": AS_OF, "customer": customer.pk})
        assert rows_of(response) == ["Acme Industries GmbH"]
        assert parse(response.text).by_id("customer-filter")

    def test_a_day_before_anything_was_issued_is_an_empty_state(self, signed_in, book):
        response = signed_in("clerk").get(AGING, {"as_of": "2025-01-01"})
        assert "Nothing was owed" in response.text

    @pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", "1" * 60])
    def test_an_unreadable_date_is_a_filter_error(self, signed_in, value):
        response = signed_in("clerk").get(AGING, {"as_of": value})
        assert response.status_code == 200
        assert "Enter a date" in parse(response.text).by_id("filter-errors").text

    def test_a_future_date_is_a_filter_error(self, signed_in):
        tomorrow = timezone.localdate() + timedelta(days=1)
        response = signed_in("clerk").get(AGING, {"as_of": tomorrow.isoformat()})
        assert "up to today" in parse(response.text).by_id("filter-errors").text

    @pytest.mark.parametrize("params", [{"owner": "x"}, {"customer": "-3"}, {"customer": "99999"}, {"page": "zz"}])
    def test_junk_filters_never_fail(self, signed_in, params):
        assert signed_in("clerk").get(AGING, params).status_code == 200

    def test_who_reads_no_receivables_gets_403(self, signed_in):
        assert signed_in("outsider").get(AGING).status_code == 403
        assert signed_in("outsider").get(INVOICES).status_code == 403

    def test_the_csv_is_streamed_per_customer(self, signed_in, book):
        response = signed_in("clerk").get(AGING, {"as_of": AS_OF, "_export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == ["Customer", "Customer ID", "Currency", "Current", "1–30", "31–60", "61–90", "90+", "Total"]
        assert rows[1][0] == "Acme Industries GmbH" and rows[1][3] == "100.00" and rows[1][-1] == "600.00"
        assert rows[2][2] == "USD" and rows[2][5] == "250.00"

    def test_the_page_costs_the_same_queries_for_few_or_many_customers(
        self, signed_in, issue, clerk, django_assert_num_queries
    ):
        client = signed_in("clerk")
        issue("10.00", on=date(2026, 6, 1))
        client.get(AGING)  # warm: session, permissions
        # user, owners (the filter), count, the page's rows, its unapplied credit, totals, unapplied totals
        with django_assert_num_queries(7) as few:
            client.get(AGING)
        for _ in range(20):
            issue("10.00", on=date(2026, 6, 1), who=CustomerFactory())
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(AGING).context["page"].object_list) == 21


class TestDrillDown:
    def test_a_bucket_lists_its_invoices_with_what_they_owed_then(self, signed_in, book):
        response = signed_in("clerk").get(INVOICES, {"as_of": AS_OF, "bucket": "over_90"})
        (invoice,) = response.context["page"].object_list
        assert str(invoice.open_then) == "500.00" and invoice.days_late == 119

    def test_a_rep_drills_into_their_own_customers_only(self, signed_in, book):
        response = signed_in("rep").get(INVOICES, {"as_of": AS_OF, "bucket": "days_31_60"})
        assert list(response.context["page"].object_list) == []

    def test_an_unknown_bucket_is_a_filter_error(self, signed_in):
        response = signed_in("clerk").get(INVOICES, {"bucket": "ancient"})
        assert parse(response.text).by_id("filter-errors")

    def test_the_chart_links_to_the_drill_down(self, signed_in, book):
        page = parse(signed_in("clerk").get(AGING, {"as_of": AS_OF}).text)
        links = [a.attrs["href"] for a in page.by_id("aging-chart-EUR").find_all(tag="a")]
        assert f"{INVOICES}?bucket=over_90&as_of={AS_OF}" in links

    def test_the_csv_lists_the_buckets_invoices(self, signed_in, book):
        response = signed_in("clerk").get(INVOICES, {"as_of": AS_OF, "_export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [row[-1] for row in rows[1:]] == ["500.00", "250.00", "100.00"]

    def test_the_drill_down_costs_the_same_queries_for_few_or_many_invoices(
        self, signed_in, issue, django_assert_num_queries
    ):
        client = signed_in("clerk")
        issue("10.00", on=date(2026, 6, 1))
        client.get(INVOICES)
        with django_assert_num_queries(4) as few:  # user, owners, count, the page's invoices
            client.get(INVOICES)
        for _ in range(20):
            issue("10.00", on=date(2026, 6, 1), who=CustomerFactory())
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(INVOICES).context["page"].object_list) == 21


def test_the_navigation_leads_to_the_aging(signed_in):
    page = parse(signed_in("rep").get(AGING).text)
    current = page.find(tag="nav").find_all(aria_current="page") if page.find(tag="nav") else []
    assert any(link.text.strip() == "Aging" for link in current) or "Aging" in page.text
