"""Each user reads dates and money in their own format and clock on every page;
CSV and the API stay ISO dates and plain decimals whoever asks."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Customer
from tests.crm import test_pages
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

# 16:31 UTC is 17:31 in Berlin; 23:30 UTC is already the next day there.
AFTERNOON = datetime(2026, 12, 4, 16, 31, tzinfo=UTC)
LATE_EVENING = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)

FORMATS = {
    "en-US": {"date": "Dec 4, 2026", "money": "10,000.00 EUR", "moment": "Dec 4, 2026, 5:31 PM"},
    "de-DE": {"date": "04.12.2026", "money": "10.000,00 EUR", "moment": "04.12.2026, 17:31"},
}


@pytest.fixture(autouse=True)
def _company(settings):
    settings.COMPANY_LOCALE = "en-GB"
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def signed_in_as(client, rep):
    def sign_in(locale="", time_zone="", user=None):
        user = user or rep
        user.locale, user.time_zone = locale, time_zone
        user.save(update_fields=["locale", "time_zone"])
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def acme(rep):
    customer = CustomerFactory(owner=rep, name="Acme", credit_limit=Decimal("10000.00"), currency="EUR")
    Customer.objects.filter(pk=customer.pk).update(created_at=AFTERNOON, updated_at=AFTERNOON)
    customer.refresh_from_db()
    return customer


def squash(text: str) -> str:
    """Runs of whitespace as one space: en-US puts a narrow no-break space before PM."""
    return " ".join(text.split())


def text(response) -> str:
    assert response.status_code == 200
    return squash(parse(response.content.decode()).text)


@pytest.mark.parametrize("locale", FORMATS)
def test_the_customer_list_shows_dates_and_money_in_the_users_format(signed_in_as, acme, locale):
    page = parse(signed_in_as(locale, "Europe/Berlin").get(reverse("crm:customer_list")).content.decode())
    (row,) = [tr for tr in page.find_all(tag="tr") if "Acme" in tr.text]
    cells = [td.text.strip() for td in row.find_all(tag="td")]
    assert FORMATS[locale]["money"] in cells
    assert FORMATS[locale]["date"] in cells


@pytest.mark.parametrize("locale", FORMATS)
def test_the_summary_totals_read_in_the_users_format(signed_in_as, acme, locale):
    response = signed_in_as(locale).get(
        reverse("crm:customer_list"), {"_part": "summary"}, headers={"HX-Request": "true"}
    )
    assert FORMATS[locale]["money"] in text(response)


@pytest.mark.parametrize("locale", FORMATS)
def test_the_record_page_shows_dates_times_and_money_in_the_users_format(signed_in_as, acme, locale):
    page = parse(signed_in_as(locale, "Europe/Berlin").get(acme.get_absolute_url()).content.decode())
    assert squash(page.by_id("credit-limit").text) == FORMATS[locale]["money"]
    facts = squash(page.by_id("record-heading").parent.parent.text)
    assert f"Customer since {FORMATS[locale]['date']}" in facts
    assert f"Last changed {FORMATS[locale]['moment']}" in facts


def test_the_users_time_zone_moves_a_late_change_into_the_next_day(signed_in_as, acme):
    Customer.objects.filter(pk=acme.pk).update(updated_at=LATE_EVENING)
    assert "Last changed 04.12.2026, 23:30" in text(signed_in_as("de-DE").get(acme.get_absolute_url()))
    assert "Last changed 05.12.2026, 00:30" in text(signed_in_as("de-DE", "Europe/Berlin").get(acme.get_absolute_url()))


@pytest.mark.parametrize("locale", FORMATS)
def test_the_home_page_shows_relative_times_with_the_exact_local_time(signed_in_as, acme, clerk, locale):
    page = parse(signed_in_as(locale, "Europe/Berlin", user=clerk).get(reverse("home")).content.decode())
    (time,) = [t for t in page.by_id("recent-customers").find_all(tag="time") if "Acme" in t.parent.parent.text]
    assert time.attrs["datetime"] == "2026-12-04T16:31:00+00:00"
    assert time.attrs["tabindex"] == "0"  # the exact time is reachable by keyboard too
    assert time.text.startswith(("in ", "1 year", "2 years")) or "ago" in time.text
    assert squash(time.find(class_="relative-time-exact").text).removeprefix(", ") == FORMATS[locale]["moment"]


def test_without_a_choice_the_browsers_language_decides(signed_in_as, acme):
    client = signed_in_as()
    german = text(client.get(acme.get_absolute_url(), headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}))
    assert "10.000,00 EUR" in german
    american = text(client.get(acme.get_absolute_url(), headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "10,000.00 EUR" in american and "Dec 4, 2026" in american
    company = text(client.get(acme.get_absolute_url(), headers={"Accept-Language": "ja-JP"}))
    assert "10,000.00 EUR" in company and "4 Dec 2026" in company  # en-GB


def test_a_chosen_format_wins_over_the_browser(signed_in_as, acme):
    page = text(signed_in_as("en-US").get(acme.get_absolute_url(), headers={"Accept-Language": "de-DE"}))
    assert "10,000.00 EUR" in page


def test_the_interface_text_stays_english_for_a_german_browser(signed_in_as):
    response = signed_in_as().post(reverse("password_change"), {}, headers={"Accept-Language": "de-DE,de"})
    assert "This field is required." in response.content.decode()


def test_the_csv_export_keeps_iso_dates_and_plain_decimals(signed_in_as, acme):
    response = signed_in_as("de-DE", "Europe/Berlin").get(reverse("crm:customer_list"), {"_export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    (row,) = [row for row in rows if row["Name"] == "Acme"]
    assert "10000.00" in row.values()
    assert "2026-12-04T16:31:00+00:00" in row.values()


def test_the_api_answers_iso_and_plain_decimals_to_a_german_user(signed_in_as, acme):
    client = signed_in_as("de-DE", "Europe/Berlin")
    body = client.get(f"/api/v1/customers/{acme.pk}/", headers={"Accept-Language": "de-DE"}).json()
    assert body["credit_limit"] == "10000.00"
    assert body["updated_at"] in ("2026-12-04T16:31:00Z", "2026-12-04T16:31:00+00:00")


def test_the_edit_form_shows_and_reads_the_credit_limit_in_the_users_format(signed_in_as, acme, finance_manager):
    client = signed_in_as("de-DE", user=finance_manager)
    url = reverse("crm:customer_edit", args=[acme.pk])
    page = parse(client.get(url).content.decode())
    (field,) = page.find_all(tag="input", name="credit_limit")
    assert field.attrs["value"] == "10.000,00"
    assert field.attrs["inputmode"] == "decimal"
    response = client.post(url, test_pages.form_data(acme, credit_limit="12.500,75", version=acme.version))
    assert response.status_code == 302, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.credit_limit == Decimal("12500.75")


def test_a_chosen_format_costs_the_list_no_query(signed_in_as, acme, django_assert_num_queries):
    client = signed_in_as("de-DE", "Europe/Berlin")
    client.get(reverse("crm:customer_list"))  # warm
    with django_assert_num_queries(test_pages.TestQueryCounts.LIST_QUERIES):
        assert client.get(reverse("crm:customer_list")).status_code == 200
