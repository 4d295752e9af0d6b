"""Counting requests against a limit in Django's cache (Redis in production).

A fixed window: the first hit of a window creates its counter with the window as
its lifetime, later hits increment it. Shared by every process that shares the
cache, so gunicorn workers on several machines count together.
"""

import hashlib
import time

from django.core.cache import cache


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one request for `key` in `scope`; True while it is within `limit` per `window` seconds."""
    # Hashed: keys stay short and valid for any cache, and no address is stored in clear.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        count = 1
    return count <= limit
