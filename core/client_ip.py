"""The address of the client behind the request, as far as it can be trusted.

Behind a reverse proxy every request comes from the proxy's address; the client's
own address is in `X-Forwarded-For`, which each proxy appends to. Only the entries
added by our own proxies can be trusted (a client may send any header it likes),
so with `TRUSTED_PROXY_COUNT = n` the client is the n-th entry from the right, and
with 0 (no proxy, the default) the header is ignored. django-axes (sign-in
lockouts) and the password-reset limit both key on this address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        # Fewer hops than our own proxies add: the request bypassed them (or they are
        # misconfigured); the connection's address is all we know.
        return remote
    return _valid(forwarded[-proxies]) or remote
