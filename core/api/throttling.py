"""Request rates for the API: per signed-in user (a token acts as its user) and per
client address for anonymous requests.

The counters live in Django's default cache: Redis when REDIS_URL is set, so every
gunicorn worker and machine shares them; the local-memory cache otherwise (one
process, as in `make run`). A throttled request answers 429 in the shared error shape
with `Retry-After` (seconds).
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class RateFromSettings:
    """DRF reads the rates once, at import; read them per request instead, so a
    changed setting (a test's, or a reloaded configuration) takes effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(RateFromSettings, throttling.UserRateThrottle):
    """`user` rate, counted per user, whichever token or session they use."""


class AnonRateThrottle(RateFromSettings, throttling.AnonRateThrottle):
    """`anon` rate, counted per client address (see NUM_PROXIES)."""
