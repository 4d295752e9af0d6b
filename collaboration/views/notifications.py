"""The bell and the notifications page: what a person was told (mentions, approvals
to decide, decisions on their requests), newest first; opening one marks it read.

Every view reads only the signed-in person's own notifications: another person's id
is a 404. The bell's count comes from the cache (collaboration.live), so its poll
costs no query while nothing changes."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .. import live
from ..models import Notification
from ..services import mark_all_read, mark_read

TEMPLATE = "collaboration/notification_list.html"
BELL_TEMPLATE = "collaboration/notification_bell.html"
PAGE_SIZE = 25
# The bell's menu shows the latest few; the page shows them all.
MENU_SIZE = 8


def cursor(value) -> int | None:
    """A list's `?before=<id>`: None (the newest) unless it is an id a table can hold."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


class Show:
    ALL = "all"
    UNREAD = "unread"
    CHOICES = ((ALL, "All"), (UNREAD, "Unread"))


def _show(request) -> str:
    return Show.UNREAD if request.GET.get("show") == Show.UNREAD else Show.ALL


def notifications_of(user, *, show: str = Show.ALL, before: int | None = None):
    """The person's notifications, newest first (one range of their index)."""
    notifications = Notification.objects.filter(user=user)
    if show == Show.UNREAD:
        notifications = notifications.filter(read_at__isnull=True)
    if before is not None:
        notifications = notifications.filter(pk__lt=before)
    return notifications.order_by("-id")


def page_context(request, *, notice: str = "") -> dict:
    """One page of the list: a cursor (`?before=<id>`) rather than page numbers, so
    any page costs the same and a made-up cursor simply starts at the newest."""
    show = _show(request)
    before = cursor(request.GET.get("before"))
    rows = list(notifications_of(request.user, show=show, before=before)[: PAGE_SIZE + 1])
    older = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return {
        "notifications": rows[:PAGE_SIZE],
        "show": show,
        "show_choices": Show.CHOICES,
        "before": before,
        "older": older,
        "notice": notice,
    }


@require_GET
def notification_list(request):
    context = page_context(request)
    if request.htmx and request.GET.get("_part") == "panel":
        return render(request, f"{TEMPLATE}#panel", context)
    return render(request, TEMPLATE, context)


def _back_to_list(request):
    """Where a plain (non-htmx) form goes back to: the list it was sent from."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("collaboration:notifications")


@require_POST
def notification_mark_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    mark_read(user=request.user, notification_ids=[notification.pk])
    if request.htmx:
        notification.refresh_from_db(fields=["read_at"])
        context = {"notification": notification, "unread": live.unread_count(request.user.pk), "oob": True}
        return render(request, f"{TEMPLATE}#marked", context)
    return _back_to_list(request)


@require_POST
def notification_mark_all_read(request):
    count = mark_all_read(user=request.user)
    notice = f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing was unread."
    if request.htmx:
        context = {**page_context(request, notice=notice), "unread": 0, "oob": True}
        return render(request, f"{TEMPLATE}#marked_all", context)
    messages.success(request, notice)
    return _back_to_list(request)


@require_GET
def notification_open(request, pk: int):
    """Follow a notification's link: it is read once opened."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if notification.read_at is None:
        mark_read(user=request.user, notification_ids=[notification.pk])
    # Notifications link to pages of this site; anything else goes to the list.
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect(reverse("collaboration:notifications"))


def with_bell(request, response):
    """`response` with the bell's count swapped in out of band: for answers to actions
    that change it (a decision reads the approver's reminder; news brings a mention)."""
    bell = render_to_string(
        f"{BELL_TEMPLATE}#count", {"oob": True, "unread": live.unread_count(request.user.pk)}, request=request
    )
    response.content += bell.encode()
    return response


@require_GET
def notification_count(request):
    """The bell's poll: 204 while the count is the one shown (`?shown=3`), answered
    from the cache; the new badge otherwise."""
    unread = live.unread_count(request.user.pk)
    if request.GET.get("shown", "") == str(unread):
        return HttpResponse(status=204)
    return render(request, f"{BELL_TEMPLATE}#count", {"unread": unread})


@require_GET
def notification_menu(request):
    """The bell's menu, loaded when it opens: the latest few."""
    context = {
        "notifications": list(notifications_of(request.user)[:MENU_SIZE]),
        "unread": live.unread_count(request.user.pk),
    }
    return render(request, f"{BELL_TEMPLATE}#menu", context)
