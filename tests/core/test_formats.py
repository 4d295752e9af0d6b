"""core.formats: dates, times and numbers read in the active locale and time zone."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from core import formats
from core.money import format_amount, format_money, plain_amount

LATE_EVENING_UTC = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _company(settings):
    settings.COMPANY_LOCALE = "en-GB"
    settings.TIME_ZONE = "UTC"


@pytest.mark.parametrize(
    ("locale", "day", "amount", "moment"),
    [
        ("en-US", "Dec 4, 2026", "1,234,567.50", "Dec 4, 2026, 11:30\u202fPM"),
        ("en-GB", "4 Dec 2026", "1,234,567.50", "4 Dec 2026, 23:30"),
        ("de-DE", "04.12.2026", "1.234.567,50", "04.12.2026, 23:30"),
        ("fr-FR", "4 déc. 2026", "1\u202f234\u202f567,50", "4 déc. 2026, 23:30"),
        ("de-CH", "04.12.2026", "1'234'567.50", "04.12.2026, 23:30"),
    ],
)
def test_dates_times_and_amounts_read_in_the_active_locale(locale, day, amount, moment):
    with formats.override(locale), timezone.override("UTC"):
        assert formats.format_date(date(2026, 12, 4)) == day
        assert format_amount(Decimal("1234567.5")) == amount
        assert formats.format_datetime(LATE_EVENING_UTC) == moment


def test_without_a_request_the_company_format_is_used():
    # Celery tasks and emails: nothing activated.
    assert formats.current_locale() == "en-GB"
    assert format_amount(Decimal("1234.5")) == "1,234.50"


def test_the_time_zone_moves_a_late_evening_into_the_next_day():
    with formats.override("de-DE"):
        with timezone.override("Europe/Berlin"):
            assert formats.format_date(LATE_EVENING_UTC) == "05.12.2026"
            assert formats.format_datetime(LATE_EVENING_UTC) == "05.12.2026, 00:30"
            assert formats.format_time(LATE_EVENING_UTC) == "00:30"
        with timezone.override("America/New_York"):
            assert formats.format_date(LATE_EVENING_UTC) == "04.12.2026"
            assert formats.format_time(LATE_EVENING_UTC) == "18:30"


@pytest.mark.parametrize(
    ("value", "places", "en", "de"),
    [
        (Decimal("0"), 2, "0.00", "0,00"),
        (Decimal("-1234.5"), 2, "-1,234.50", "-1.234,50"),
        (Decimal("999.995"), 2, "1,000.00", "1.000,00"),  # half up, as money is rounded
        (1234567, None, "1,234,567", "1.234.567"),
        (Decimal("12.5"), 1, "12.5", "12,5"),
    ],
)
def test_numbers_are_grouped_with_the_locales_marks(value, places, en, de):
    with formats.override("en-US"):
        assert formats.format_number(value, places) == en
    with formats.override("de-DE"):
        assert formats.format_number(value, places) == de


def test_money_keeps_its_currency_after_the_number_and_csv_stays_plain():
    with formats.override("de-DE"):
        assert format_money(Decimal("1234.5"), "EUR") == '1.234,50 <span class="currency">EUR</span>'
        assert plain_amount(Decimal("1234.5")) == "1234.50"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de-DE"),
        ("de", "de-DE"),  # a bare language picks its usual country
        ("de-LI", "de-DE"),  # a country not offered falls back to its language
        ("fr-CA,en-GB;q=0.8", "fr-FR"),
        ("en-GB;q=0.5,en-US;q=0.9", "en-US"),  # by quality, not by order
        ("en", "en-US"),
        ("ja-JP", None),
        ("", None),
        ("*", None),
        ("x" * 600, None),
        ("de-DE;q=abc,,;;", None),
    ],
)
def test_the_browser_locale_is_negotiated_against_the_offered_ones(header, expected):
    assert formats.negotiate(header) == expected


def test_stored_spellings_of_an_offered_locale_are_forgiven():
    assert formats.offered_locale("de_DE") == "de-DE"
    assert formats.offered_locale("DE-de") == "de-DE"
    assert formats.offered_locale("xx-YY") is None
    assert formats.offered_locale("ja-JP") is None  # a real locale, but not offered


def test_only_real_time_zones_are_valid():
    assert formats.valid_time_zone("Europe/Berlin")
    assert not formats.valid_time_zone("Mars/Olympus_Mons")
    assert not formats.valid_time_zone("../../etc/passwd")
    assert not formats.valid_time_zone("")


@pytest.mark.parametrize(
    ("locale", "typed", "expected"),
    [
        # de-DE: the German reading wins where it is well-formed...
        ("de-DE", "1.234", Decimal("1234")),
        ("de-DE", "1,5", Decimal("1.5")),
        ("de-DE", "1.234,50", Decimal("1234.50")),
        ("de-DE", "-1.234,5", Decimal("-1234.5")),
        ("de-DE", " 12 500,75 ", Decimal("12500.75")),
        # ...and a plain decimal with a point is read as such where it is not.
        ("de-DE", "1.5", Decimal("1.5")),
        ("de-DE", "1234.50", Decimal("1234.50")),
        ("en-US", "1,234.50", Decimal("1234.50")),
        ("en-US", "1234.50", Decimal("1234.50")),
        ("en-US", "−5", Decimal("-5")),
        ("fr-FR", "1\u202f234,50", Decimal("1234.50")),
        ("de-CH", "1’234.50", Decimal("1234.50")),
        ("de-CH", "1'234.50", Decimal("1234.50")),
    ],
)
def test_typed_numbers_are_read_in_the_locale_then_as_plain_decimals(locale, typed, expected):
    with formats.override(locale):
        assert formats.parse_number(typed) == expected


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        ("en-US", "1,5"),  # a comma that cannot be a group mark in English
        ("en-US", "1.234,50"),
        ("de-DE", "1,234.50"),
        ("de-DE", "1..5"),
        ("de-DE", "NaN"),
        ("de-DE", "Infinity"),
        ("de-DE", "1e5"),
        ("de-DE", "12 EUR"),
        ("de-DE", "١٢"),  # digits of another script
        ("de-DE", "9" * 50),
        ("de-DE", ""),
        ("de-DE", "-"),
    ],
)
def test_junk_is_not_a_number(locale, typed):
    with formats.override(locale), pytest.raises(ValueError):
        formats.parse_number(typed)


def test_each_locale_describes_itself_in_its_own_language():
    assert formats.describe("de-DE") == "Deutsch (Deutschland) — 04.12.2026 · 1.234,56"
    assert formats.describe("en-US") == "English (United States) — Dec 4, 2026 · 1,234.56"


def test_relative_times_are_english_and_carry_the_exact_time():
    now = timezone.now()
    moment = now.replace(microsecond=0) - timezone.timedelta(minutes=3)
    with formats.override("de-DE"), timezone.override("Europe/Berlin"):
        html = Template("{% load concord %}{{ moment|relative }}").render(Context({"moment": moment}))
        exact = formats.format_datetime(moment)
    assert html.startswith(
        f'<time class="relative-time" datetime="{moment.isoformat(timespec="seconds")}" tabindex="0">'
    )
    assert "3 minutes ago" in html
    assert exact in html and "," in exact
    assert formats.format_relative(now) == "just now"


@pytest.mark.parametrize("value", [None, "", "junk", "NaN", object()])
def test_filters_show_nothing_for_what_is_not_a_number_or_a_date(value):
    rendered = Template(
        "{% load concord %}[{{ v|number }}|{{ v|amount }}|{{ v|money:'EUR' }}|{{ v|local_date }}|{{ v|local_datetime }}|{{ v|relative }}]"
    ).render(Context({"v": value}))
    assert rendered == "[|||||]"


def test_the_number_filter_groups_counts():
    with formats.override("de-DE"):
        assert (
            Template("{% load concord %}{{ n|number }} {{ r|number:1 }}").render(
                Context({"n": 12345, "r": Decimal("0.25")})
            )
            == "12.345 0,3"
        )
