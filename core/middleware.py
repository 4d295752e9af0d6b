"""Request-level helpers that every page shares."""

import zoneinfo
from contextlib import contextmanager

from django.conf import settings
from django.contrib import messages
from django.utils import timezone
from django.utils.cache import patch_cache_control

from core import formats

# The session remembers which bad values it has told about.
FALLBACK_NOTED = "format_fallback_noted"


class PrivatePagesMiddleware:
    """What a signed-in person sees is theirs: no browser or proxy keeps a copy.

    A page, CSV export or API answer for a signed-in user gets
    `Cache-Control: private, no-store` unless the view chose its own caching. Static
    files never get here (WhiteNoise answers them earlier), and pages for signed-out
    visitors (the login page) are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if not response.has_header("Cache-Control") and user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class UserFormatMiddleware:
    """Read each request in its user's format and clock (core.formats).

    The locale is the user's `locale` when Concord offers it, else the one the
    browser's Accept-Language asks for, else the company's; the time zone is the
    user's `time_zone`, else settings.TIME_ZONE. The user's attributes are read
    generically (core imports no Concord app), from the user object the
    authentication middleware loads anyway: no query of its own.

    A stored value Concord does not know (typed in the admin, or left by an older
    version) falls back to the company's default and says so once per session. It
    only changes how dates and numbers read, never what anyone may see or do.

    Paths in settings.FORMAT_EXEMPT_PATHS (the API) are left in the company's
    format and clock: what a machine reads must not depend on who asked. Paths in
    settings.FORMAT_DEFERRED_PATHS (a poll that mostly answers "nothing new") load
    no user here: their view wraps what it renders in `user_formats(request)`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(tuple(settings.FORMAT_EXEMPT_PATHS)):
            return self.get_response(request)  # the company's format and clock (core.formats)
        if request.path_info.startswith(tuple(settings.FORMAT_DEFERRED_PATHS)):
            # The view activates the format itself, only if it renders anything (user_formats).
            return self.get_response(request)
        with user_formats(request):
            return self.get_response(request)


@contextmanager
def user_formats(request):
    """Read what is rendered inside in the request user's format and clock (see
    UserFormatMiddleware); for views in settings.FORMAT_DEFERRED_PATHS."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    chosen_locale = str(getattr(user, "locale", "") or "") if signed_in else ""
    chosen_zone = str(getattr(user, "time_zone", "") or "") if signed_in else ""

    if chosen_locale:
        locale = formats.offered_locale(chosen_locale)
    else:
        locale = formats.negotiate(request.headers.get("Accept-Language", ""))
    zone = chosen_zone if formats.valid_time_zone(chosen_zone) else None
    unknown = []
    if chosen_locale and locale is None:
        unknown.append(f"language and format “{chosen_locale[:40]}”")
    if chosen_zone and zone is None:
        unknown.append(f"time zone “{chosen_zone[:64]}”")
    if unknown:
        _note_fallback(request, unknown, [chosen_locale, chosen_zone])

    formats.activate(locale or formats.company_locale())
    timezone.activate(zoneinfo.ZoneInfo(zone or settings.TIME_ZONE))
    try:
        yield
    finally:
        formats.deactivate()
        timezone.deactivate()


def _note_fallback(request, unknown: list[str], chosen: list[str]) -> None:
    session = getattr(request, "session", None)
    if session is None or session.get(FALLBACK_NOTED) == chosen:
        return
    session[FALLBACK_NOTED] = chosen
    messages.warning(
        request,
        f"Your saved {' and '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not known to Concord, "
        "so pages use the company's default instead. Choose again under Preferences in your user menu.",
        fail_silently=True,
    )
