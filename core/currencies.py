"""Currencies by ISO 4217 code, named as people know them ("EUR — Euro").

The codes are those some country uses as legal tender today according to the
Unicode CLDR data Babel ships: "DEM" or "FRF" are history and not offered. The
list changes only when Babel is upgraded, so it is worked out once per process.
"""

from functools import cache

from babel import Locale
from babel.core import get_global
from babel.numbers import get_currency_name, list_currencies
from django.conf import settings


def _locale(locale: str | None) -> Locale:
    return Locale.parse(locale or settings.COMPANY_LOCALE, sep="-")


@cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes currently legal tender somewhere."""
    in_use = {
        code
        for entries in get_global("territory_currencies").values()
        for code, _start, end, tender in entries
        if end is None and tender
    }
    return frozenset(in_use & set(list_currencies()))


def is_currency(code: str) -> bool:
    return code in currency_codes()


def currency_name(code: str, locale: str | None = None) -> str:
    """ "Euro" for "EUR"; an unknown code is returned as it is."""
    return get_currency_name(code, locale=_locale(locale)) if code else ""


def currency_label(code: str, locale: str | None = None) -> str:
    """How a record names its currency: "Euro (EUR)"."""
    name = currency_name(code, locale)
    return f"{name} ({code})" if name and name != code else code


@cache
def _choices(locale: Locale) -> tuple[tuple[str, str], ...]:
    return tuple((code, f"{code} — {get_currency_name(code, locale=locale)}") for code in sorted(currency_codes()))


def currency_choices() -> list[tuple[str, str]]:
    """Choices for a model field or a form: ("EUR", "EUR — Euro"), by code.

    A callable, so a model field's choices stay out of its migrations."""
    return list(_choices(_locale(None)))
