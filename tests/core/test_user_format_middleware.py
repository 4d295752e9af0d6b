"""A stored format or time zone Concord does not know falls back to the company's
default, says so once per session, and changes nothing of who may do what."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from core import formats
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

AFTERNOON = datetime(2026, 12, 4, 16, 31, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _company(settings):
    settings.COMPANY_LOCALE = "en-GB"
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def acme(rep):
    customer = CustomerFactory(owner=rep, name="Acme", credit_limit=Decimal("10000.00"))
    Customer.objects.filter(pk=customer.pk).update(updated_at=AFTERNOON)
    return customer


def sign_in(client, user, *, locale="", time_zone=""):
    # As the admin, or an older version, could have stored it: no validation on the way.
    type(user).objects.filter(pk=user.pk).update(locale=locale, time_zone=time_zone)
    client.force_login(user)
    return client


def warnings(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_an_unknown_stored_format_falls_back_to_the_company_format_with_a_message(client, rep, acme):
    sign_in(client, rep, locale="xx-YY")
    response = client.get(acme.get_absolute_url(), headers={"Accept-Language": "de-DE"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "10,000.00" in page and "4 Dec 2026, 17:31" in page  # en-GB, company clock
    (message,) = warnings(response)
    assert "language and format “xx-YY”" in message and "Preferences" in message


def test_an_unknown_stored_time_zone_falls_back_to_the_company_clock_with_a_message(client, rep, acme):
    sign_in(client, rep, locale="de-DE", time_zone="Mars/Olympus_Mons")
    response = client.get(acme.get_absolute_url())
    assert "04.12.2026, 17:31" in response.content.decode()  # Berlin, the company's
    (message,) = warnings(response)
    assert "time zone “Mars/Olympus_Mons”" in message


def test_the_message_comes_once_per_session_not_on_every_page(client, rep, acme):
    sign_in(client, rep, locale="xx-YY", time_zone="Nowhere/Town")
    first = client.get(reverse("crm:customer_list"))
    assert len(warnings(first)) == 1
    assert "language and format “xx-YY” and time zone “Nowhere/Town” are not known" in warnings(first)[0]
    assert warnings(client.get(reverse("crm:customer_list"))) == []
    assert warnings(client.get(acme.get_absolute_url())) == []
    # A different bad value is worth telling again.
    type(rep).objects.filter(pk=rep.pk).update(locale="zz-ZZ")
    assert len(warnings(client.get(reverse("crm:customer_list")))) == 1


def test_a_known_choice_gets_no_message(client, rep, acme):
    sign_in(client, rep, locale="de-DE", time_zone="America/New_York")
    response = client.get(acme.get_absolute_url())
    assert warnings(response) == []
    assert "04.12.2026, 11:31" in response.content.decode()


@pytest.mark.parametrize(("locale", "time_zone"), [("xx-YY", "Mars/Olympus_Mons"), ("../../etc", "../../etc/passwd")])
def test_bad_values_change_nothing_of_who_may_see_or_do_what(client, actors, acme, locale, time_zone):
    rep, clerk, outsider = actors["rep"], actors["clerk"], actors["outsider"]
    sign_in(client, rep, locale=locale, time_zone=time_zone)
    assert client.get(reverse("crm:customer_edit", args=[acme.pk])).status_code == 200
    sign_in(client, clerk, locale=locale, time_zone=time_zone)
    assert client.get(reverse("crm:customer_create")).status_code == 403
    sign_in(client, outsider, locale=locale, time_zone=time_zone)
    assert client.get(reverse("crm:customer_list")).status_code == 403


def test_signed_out_pages_read_in_the_browsers_format(client):
    assert client.get(reverse("login"), headers={"Accept-Language": "de-DE"}).status_code == 200


def test_nothing_leaks_into_the_next_request_or_a_task(client, rep, acme):
    sign_in(client, rep, locale="de-DE", time_zone="Asia/Tokyo")
    assert "05.12.2026, 01:31" in client.get(acme.get_absolute_url()).content.decode()  # Tokyo
    assert formats.current_locale() == "en-GB"
    assert str(timezone.get_current_timezone()) == "Europe/Berlin"
