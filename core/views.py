"""Health check, the global search page and error pages. API paths get JSON errors of the shared shape."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import search as global_search
from core.api.errors import error_body

logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the broker, when one is configured) answer; 503 otherwise."""
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["broker"] = _check_broker
    results, healthy = {}, True
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as error:  # any failure of a dependency means "unhealthy"
            logger.warning("healthz: %s is down: %s", name, error)
            results[name] = "down"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503
    )


@require_GET
def search(request):
    """The header's search box: every kind of record the user may read, grouped by
    kind, with counts and a link to each kind's list filtered the same way. One match
    is shown as a list too: jumping straight to it would hide that the search ran."""
    raw = request.GET.get("q", "")
    query = global_search.clean_query(raw)
    context = {
        "search_query": query,
        "groups": global_search.search(request.user, query),
        "shortened": len(" ".join(raw.split())) > global_search.MAX_QUERY_LENGTH,
        "max_length": global_search.MAX_QUERY_LENGTH,
    }
    return render(request, "core/search.html", context)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)
    return defaults.bad_request(request, exception, template_name="400.html")


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", str(exception) or "Not allowed."), status=403)
    return defaults.permission_denied(request, exception, template_name="403.html")


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception, template_name="404.html")


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."), status=500
        )
    return defaults.server_error(request, template_name="500.html")
