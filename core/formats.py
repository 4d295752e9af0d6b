"""Dates, times and numbers in the format of the person reading them.

Each request reads in one *format locale* (a Babel locale such as "de-DE") and one
time zone, activated by core.middleware.UserFormatMiddleware: the user's own choice
(User.locale, User.time_zone), else for the locale the browser's Accept-Language
negotiated against settings.FORMAT_LOCALES, else the company's (COMPANY_LOCALE,
TIME_ZONE). Celery tasks, emails and commands run without a request, so they read
in the company's format.

Only formats follow the locale: the interface text stays English (Django's
translation language is never switched), so "3 minutes ago" is English for
everyone while "04.12.2026" and "1.234,50" are German. Month names inside a
medium date are the locale's own ("4 déc. 2026"), as in the anchors' clients.

The choices, so every page reads the same:
- a date is the locale's *medium* date ("Dec 4, 2026", "4 Dec 2026",
  "04.12.2026"): never all-numeric where the order of day and month is ambiguous
  in English, and short enough for a table column;
- a date-time is that date with the *short* time, no seconds, in the active time
  zone ("4 Dec 2026, 17:31", "Dec 4, 2026, 5:31 PM");
- a number groups thousands with the locale's mark and uses its decimal mark
  ("1,234.50", "1.234,50", "1 234,50"). Amounts keep the ISO currency code *after*
  the number in every locale (core.money), so digits line up in right-aligned
  columns and "$" never leaves USD and CAD to guesswork.

Machine-read output (CSV, the API) never comes here: it stays ISO 8601 and plain
decimals (core.money.plain_amount).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from asgiref.local import Local
from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.dates import format_timedelta
from babel.numbers import NumberFormatError, parse_decimal
from django.conf import settings
from django.utils import timezone
from django.utils.translation.trans_real import parse_accept_lang_header

# The active locale of this request (or task): a context-local, like Django's own
# active time zone and language, so concurrent requests never see each other's.
_active = Local()

# A sample used to show people what a format looks like ("04.12.2026 · 1.234,56").
SAMPLE_DATE = date(2026, 12, 4)
SAMPLE_NUMBER = Decimal("1234.56")


# --- Which locale --------------------------------------------------------------


@lru_cache(maxsize=1)
def _offered() -> dict[str, str]:
    """settings.FORMAT_LOCALES by their lower-case spelling: "de-de" → "de-DE"."""
    return {name.lower(): name for name in settings.FORMAT_LOCALES}


def offered_locale(name: str) -> str | None:
    """The FORMAT_LOCALES id `name` stands for ("de_de" → "de-DE"), or None when it is
    not offered. Case and "_" are forgiven: an older version stored "de_DE"."""
    if not name or len(name) > 35:
        return None
    return _offered().get(name.strip().replace("_", "-").lower())


def negotiate(accept_language: str) -> str | None:
    """The offered locale the browser prefers most, or None.

    A bare language picks its usual country ("de" → de-DE, "en" → en-US, Babel's
    aliases); a country not offered falls back to its language ("de-LI" → de-DE).
    """
    preferred = []
    for tag, _quality in parse_accept_lang_header(accept_language or ""):
        if tag == "*":
            continue
        preferred.append(tag)
        if "-" in tag:
            preferred.append(tag.split("-")[0])
    found = negotiate_locale(preferred, settings.FORMAT_LOCALES, sep="-")
    return offered_locale(found) if found else None


def company_locale() -> str:
    return offered_locale(settings.COMPANY_LOCALE) or settings.COMPANY_LOCALE


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """The IANA time zone names a user may choose (zoneinfo; read once, it scans files)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def valid_time_zone(name: str) -> bool:
    # Membership, not ZoneInfo(name): a stored "../../etc/passwd" never reaches the
    # file system, and the set is the same one the preferences page offers.
    return name in time_zones()


# --- The active locale -----------------------------------------------------------


@lru_cache(maxsize=64)
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name, sep="-")


def activate(name: str) -> None:
    """Read this request (or task) in `name`, an offered locale id."""
    _babel_locale(name)  # fail now, not in the middle of a page, on an unknown name
    _active.locale = name


def deactivate() -> None:
    if hasattr(_active, "locale"):
        del _active.locale


def current_locale() -> str:
    """The active locale id, or the company's when none was activated (tasks, emails)."""
    return getattr(_active, "locale", None) or company_locale()


@contextmanager
def override(name: str):
    """`with override("de-DE"):` — for a mail to one person, or a test."""
    previous = getattr(_active, "locale", None)
    activate(name)
    try:
        yield
    finally:
        if previous is None:
            deactivate()
        else:
            _active.locale = previous


def display_name(name: str) -> str:
    """The locale in its own language, as people recognise it: "Deutsch (Deutschland)"."""
    try:
        locale = _babel_locale(name)
    except (ValueError, UnknownLocaleError):
        return name
    label = locale.get_display_name(locale) or name
    return label[:1].upper() + label[1:]


def describe(name: str) -> str:
    """ "Deutsch (Deutschland) — 04.12.2026 · 1.234,56": a locale with what it looks like."""
    with override(name):
        return f"{display_name(name)} — {format_date(SAMPLE_DATE)} · {format_number(SAMPLE_NUMBER, 2)}"


# --- Dates and times ---------------------------------------------------------------


def _local(value: datetime) -> datetime:
    # Stored date-times are aware (USE_TZ); a naive one is shown as it is.
    return timezone.localtime(value) if timezone.is_aware(value) else value


def format_date(value: date | datetime) -> str:
    """The medium date: "Dec 4, 2026" (en-US), "4 Dec 2026" (en-GB), "04.12.2026" (de-DE).
    A date-time gives the date it is in the active time zone."""
    if isinstance(value, datetime):
        value = _local(value).date()
    return babel_format_date(value, "medium", locale=_babel_locale(current_locale()))


def format_month(value: date) -> str:
    """The month's short name in the reader's language: "Jul" (en), "juil." (fr)."""
    return babel_format_date(value, "LLL", locale=_babel_locale(current_locale()))


@lru_cache(maxsize=64)
def _datetime_pattern(name: str) -> str:
    """The locale's medium date joined to its short time ("{1}, {0}"), as one pattern
    Babel reads, so quoted literals of the locale stay literal."""
    locale = _babel_locale(name)
    joined = str(locale.datetime_formats["medium"])
    return joined.replace("{1}", locale.date_formats["medium"].pattern).replace(
        "{0}", locale.time_formats["short"].pattern
    )


def format_datetime(value: datetime) -> str:
    """ "4 Dec 2026, 17:31" — in the active time zone, without seconds."""
    name = current_locale()
    return babel_format_datetime(_local(value), _datetime_pattern(name), locale=_babel_locale(name))


def format_time(value: datetime) -> str:
    """ "17:31" or "5:31 PM", in the active time zone."""
    return babel_format_time(_local(value), "short", locale=_babel_locale(current_locale()))


def format_relative(value: datetime, now: datetime | None = None) -> str:
    """ "3 minutes ago", "in 2 days", "just now" — in the interface's language (English)."""
    delta: timedelta = value - (now or timezone.now())
    if abs(delta) < timedelta(minutes=1):
        return "just now"
    return format_timedelta(delta, add_direction=True, locale=settings.LANGUAGE_CODE)


# --- Numbers -------------------------------------------------------------------------


class _NumberFormat:
    """The marks of one locale's numbers: decimal, group, minus sign and group sizes.

    Numbers are grouped here rather than by Babel's NumberPattern.apply: that drops
    the grouping of locales whose group mark is an apostrophe ("1'234'567" in de-CH
    comes out "1234567", its quoting rule eating the marks), and it costs ~5 µs a
    number where this costs well under one, for every amount of every list row."""

    def __init__(self, name: str):
        locale = _babel_locale(name)
        symbols = locale.number_symbols[locale.default_numbering_system]
        pattern = locale.decimal_formats[None]
        self.decimal, self.group, self.minus = symbols["decimal"], symbols["group"], symbols["minusSign"]
        self.primary, self.secondary = pattern.grouping

    def format(self, value: Decimal, places: int | None) -> str:
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        integer, _, fraction = f"{abs(value):f}".partition(".")
        groups, size = [], self.primary
        while len(integer) > size:
            groups.insert(0, integer[-size:])
            integer, size = integer[:-size], self.secondary
        text = self.group.join([integer, *groups])
        if fraction:
            text += self.decimal + fraction
        return (self.minus if value < 0 else "") + text


@lru_cache(maxsize=64)
def _number_format(name: str) -> _NumberFormat:
    return _NumberFormat(name)


def format_number(value: Decimal | int | float, decimal_places: int | None = None) -> str:
    """1234567 → "1,234,567" / "1.234.567"; with `decimal_places`, rounded half-up to
    that many places ("1.234,50"). A float is read through its shortest repr."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if not value.is_finite():
        return str(value)
    return _number_format(current_locale()).format(value, decimal_places)


# Characters people type into a number besides digits and the locale's marks:
# spaces of every width (a French group mark is a narrow no-break space) and the
# typographic minus.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_TYPED = re.compile(r"-?[0-9][0-9.,'’]*")


def parse_number(text: str) -> Decimal:
    """What a person typed, as a Decimal; ValueError when it is not a number.

    The rule for a mark that could be either: the entry is read in the active
    locale first, and only if it is not well-formed there, as a plain decimal with
    a point (1234.50, what a spreadsheet or a calculator gives). So in de-DE
    "1.234" is 1234 and "1,5" is 1.5, while "1.5" and "1234.50" (not well-formed
    German) are 1.5 and 1234.50; in en-US "1,234.50" is 1234.50 and "1234,50" is
    refused. Well-formed means Babel's strict reading: a group mark is followed by
    exactly three digits.
    """
    value = _SPACES.sub("", text).replace("\u2212", "-")
    if not value or len(value) > 40 or not _TYPED.fullmatch(value):
        raise ValueError(f"not a number: {text!r}")
    name = current_locale()
    marks = _number_format(name)
    if marks.group in ("’", "'"):
        value = value.replace("'", marks.group).replace("’", marks.group)
    try:
        number = parse_decimal(value, locale=_babel_locale(name), strict=True)
    except NumberFormatError:
        if not _PLAIN.fullmatch(value):
            raise ValueError(f"not a number in {name}: {text!r}") from None
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return number
