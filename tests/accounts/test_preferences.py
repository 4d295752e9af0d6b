"""The preferences page: each person chooses their own format and time zone."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.services import update_preferences
from tests.html import parse

pytestmark = pytest.mark.django_db

URL = "/account/preferences/"


@pytest.fixture(autouse=True)
def _company(settings):
    settings.COMPANY_LOCALE = "en-GB"
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def options(page, name) -> dict[str, str]:
    (select,) = page.find_all(tag="select", name=name)
    return {o.attrs.get("value", ""): " ".join(o.text.split()) for o in select.find_all(tag="option")}


def test_it_is_in_the_user_menu(rep_client):
    assert reverse("preferences") == URL
    page = parse(rep_client.get(reverse("home")).content.decode())
    assert any(a.attrs.get("href") == URL and a.text.strip() == "Preferences" for a in page.find_all(tag="a"))


def test_each_format_is_shown_by_name_with_a_sample(rep_client):
    page = parse(rep_client.get(URL, headers={"Accept-Language": "en-US"}).content.decode())
    formats = options(page, "locale")
    assert formats[""] == "Automatic — from your browser (currently: English (United States) — Dec 4, 2026 · 1,234.56)"
    assert formats["de-DE"] == "Deutsch (Deutschland) — 04.12.2026 · 1.234,56"
    assert formats["en-GB"] == "English (United Kingdom) — 4 Dec 2026 · 1,234.56"
    zones = options(page, "time_zone")
    assert zones[""] == "Company default (Europe/Berlin)"
    assert "America/New_York" in zones and "Pacific/Auckland" in zones
    assert list(zones)[1:] == sorted(list(zones)[1:])


def test_saving_changes_how_the_next_pages_read(rep_client, rep):
    response = rep_client.post(URL, {"locale": "de-DE", "time_zone": "America/New_York"}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    rep.refresh_from_db()
    assert (rep.locale, rep.time_zone) == ("de-DE", "America/New_York")
    page = response.content.decode()
    assert (
        "Preferences saved: Deutsch (Deutschland) — 04.12.2026 · 1.234,56, times in America/New_York, notification emails off."
        in page
    )
    page = parse(page)
    assert "selected" in page.find(tag="option", value="de-DE").attrs
    assert "selected" in page.find(tag="option", value="America/New_York").attrs


def test_blank_goes_back_to_automatic_and_the_company_clock(rep_client, rep):
    rep.locale, rep.time_zone = "de-DE", "Asia/Tokyo"
    rep.save()
    rep_client.post(URL, {"locale": "", "time_zone": ""})
    rep.refresh_from_db()
    assert (rep.locale, rep.time_zone) == ("", "")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"locale": "xx-YY", "time_zone": ""}, "locale", "Choose one of the listed formats."),
        ({"locale": "ja-JP", "time_zone": ""}, "locale", "Choose one of the listed formats."),
        ({"locale": "", "time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose one of the listed time zones"),
        ({"locale": "", "time_zone": "../../etc/passwd"}, "time_zone", "Choose one of the listed time zones"),
    ],
)
def test_unknown_values_are_refused_next_to_the_field(rep_client, rep, data, field, message):
    response = rep_client.post(URL, data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    rep.refresh_from_db()
    assert (rep.locale, rep.time_zone) == ("", "")


def test_a_person_changes_only_their_own(rep_client, rep, other_rep):
    # The page has no one else's to open: extra fields naming another user are ignored.
    rep_client.post(URL, {"locale": "de-DE", "time_zone": "", "user": other_rep.pk, "pk": other_rep.pk})
    other_rep.refresh_from_db()
    assert other_rep.locale == ""
    with pytest.raises(PermissionDenied):
        update_preferences(user=other_rep, by=rep, locale="de-DE", time_zone="")


def test_the_service_refuses_unknown_values_too(rep):
    with pytest.raises(ValueError, match="Unknown format"):
        update_preferences(user=rep, by=rep, locale="xx-YY", time_zone="")
    with pytest.raises(ValueError, match="Unknown time zone"):
        update_preferences(user=rep, by=rep, locale="", time_zone="Mars/Olympus_Mons")


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_admin_shows_the_fields(client, admin_user, rep):
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_change", args=[rep.pk])).content.decode()
    assert 'name="locale"' in page and 'name="time_zone"' in page


def test_the_admin_refuses_an_unknown_format_or_time_zone(client, admin_user, rep):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[rep.pk])
    data = {
        "username": rep.username,
        "first_name": rep.first_name,
        "last_name": rep.last_name,
        "email": rep.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "locale": "xx-YY",
        "time_zone": "Mars/Olympus_Mons",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Unknown format" in page and "Unknown time zone" in page
    rep.refresh_from_db()
    assert (rep.locale, rep.time_zone) == ("", "")
    response = client.post(url, {**data, "locale": "de-DE", "time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.locale, rep.time_zone) == ("de-DE", "Europe/Berlin")


def test_notification_emails_are_on_until_turned_off_and_back_on(rep_client, rep):
    page = parse(rep_client.get(URL).content.decode())
    (box,) = page.find_all(tag="input", name="email_notifications")
    assert "checked" in box.attrs
    rep_client.post(URL, {"locale": "", "time_zone": ""})
    rep.refresh_from_db()
    assert rep.email_notifications is False
    rep_client.post(URL, {"locale": "", "time_zone": "", "email_notifications": "on"})
    rep.refresh_from_db()
    assert rep.email_notifications is True
