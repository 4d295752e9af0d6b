"""Feed pages: the feed panel of every record (`{% feed_panel record %}`), My feed, a
person's feed and live updates. Views parse, call collaboration.services and render;
an htmx request gets the partial of the same template.

A record is named in requests as `on=<app>.<model>:<id>` ("crm.customer:12"); the
panel's requests carry it. A record the user may not see is a 404, like an item of
it; a malformed `on=`, `after=` or `before=` is a 400.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from core.middleware import user_formats

from .. import live, registry, selectors, services
from ..forms import CommentForm, PostForm
from ..models import Attachment, FeedItem
from ..selectors import FeedFilter
from ..text import mention_at_cursor
from .notifications import with_bell

PANEL = "collaboration/feed_panel.html"
ITEM = "collaboration/includes/item.html"
MY_FEED = "collaboration/feed_my.html"
PERSON = "collaboration/feed_person.html"
PAGE_SIZE = 20
MENTION_SUGGESTIONS = 8
# Fired at the body after a post: the panel's poller asks for the new item at once.
REFRESH_EVENT = "feed:refresh"


class BadRequest(Exception):
    pass


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**63 else None


def _optional_int(request, name: str) -> int | None:
    """An id parameter: None when absent, BadRequest when not an id."""
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    number = _int(raw)
    if number is None:
        raise BadRequest(f"{name} must be an item id.")
    return number


def _feed_filter(request) -> str:
    show = request.GET.get("show", "")
    return show if show in FeedFilter.values else ""


def parse_record_key(value: str) -> tuple[int, int] | None:
    """ "crm.customer:12" → (content type id, 12); None when malformed or unknown."""
    label, _, object_id = (value or "").partition(":")
    app_label, _, model = label.partition(".")
    object_id = _int(object_id)
    if not app_label or not model or object_id is None:
        return None
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)  # cached after the first
    except ContentType.DoesNotExist:
        return None
    return content_type.pk, object_id


def record_key(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def _record(request, value: str):
    """The record `on=` names if the user may see it: BadRequest when malformed, 404 when
    unknown or not theirs to see."""
    label, _, object_id = (value or "").partition(":")
    if registry.record_type(label) is None or _int(object_id) is None:
        raise BadRequest("on= names no record with a feed.")
    record = registry.find_record(request.user, label, object_id)
    if record is None:
        raise Http404("No such record.")
    return record


def _bad_request_on_error(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadRequest as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


# --- The panel ------------------------------------------------------------------------


def _page(items, before_count=PAGE_SIZE):
    """A page of items and the id to ask the next page `before`, or None at the end."""
    page = list(items[: before_count + 1])
    more = len(page) > before_count
    page = page[:before_count]
    return page, (page[-1].pk if more and page else None)


def _here(on: str) -> dict:
    """The record whose feed is shown: its items need not say which record they are on."""
    here_type, here_id = (parse_record_key(on) or (None, None)) if on != "inbox" else (None, None)
    return {"here_type": here_type, "here_id": here_id}


def stream_context(request, *, on: str, items, feed_filter: str, newest: int, filter_url: str) -> dict:
    page, next_before = _page(items)
    return {
        **_here(on),
        "on": on,
        "items": page,
        "next_before": next_before,
        "feed_filter": feed_filter,
        "filters": FeedFilter.choices if on == "inbox" else [c for c in FeedFilter.choices if c[0] != "mentions"],
        "after": max(newest, page[0].pk if page else 0),
        "live_interval": settings.FEED_LIVE_INTERVAL_MS,
        "filter_url": filter_url,
    }


def panel_context(
    request, record, *, composer: bool = True, feed_filter: str = "", form=None, lazy: bool = False
) -> dict:
    """What `{% feed_panel record %}` shows. The page has checked that the user may see
    `record` (it shows it): posting needs the feed permission on top.

    `lazy`: the items are asked for once the page is shown (htmx, on load), as Odoo's
    chatter does: reading and drawing twenty cards was more than half of the customer
    360. Without JavaScript the placeholder links to the page with them (`?feed=1`);
    a page asked for with `?feed=` or a filter (`?show=`) draws them at once."""
    user = request.user
    on = record_key(record)
    feed_filter = feed_filter or _feed_filter(request)
    lazy = lazy and not feed_filter and "feed" not in request.GET
    context = {
        "request": request,
        "record": record,
        "on": on,
        "following": services.is_following(user, record),
        "composer": composer and user.has_perm("collaboration.add_feeditem"),
        "form": form or PostForm(),
        "lazy": lazy,
        "filter_url": _items_url(),
    }
    if not lazy:
        items = selectors.record_feed(user, record, feed_filter=feed_filter)
        context.update(
            stream_context(request, on=on, items=items, feed_filter=feed_filter, newest=0, filter_url=_items_url())
        )
    return context


def _items_url() -> str:
    from django.urls import reverse

    return reverse("collaboration:feed_items")


@require_GET
@_bad_request_on_error
def feed_items(request):
    """A page of a feed: `on=` a record or `inbox` (My feed), `show=` a filter,
    `before=` an item id (the next page: "Load more"), or the filtered stream
    (`part=stream`, the filter links)."""
    on = request.GET.get("on", "")
    before = _optional_int(request, "before")
    feed_filter = _feed_filter(request)
    if on == "inbox":
        items = selectors.my_feed(request.user, feed_filter=feed_filter, before=before)
    else:
        record = _record(request, on)
        items = selectors.record_feed(request.user, record, feed_filter=feed_filter, before=before)
    context = stream_context(request, on=on, items=items, feed_filter=feed_filter, newest=0, filter_url=_items_url())
    if request.GET.get("part") == "stream" and before is None:
        return render(request, f"{PANEL}#stream", context)
    return render(request, f"{PANEL}#page", context)


@require_POST
@_bad_request_on_error
def create_post(request):
    """The composer: post text and files on the record `on=` names. htmx gets a fresh
    composer (and the poller fetches the post at once), or the composer with its errors
    and what was typed (400)."""
    record = _record(request, request.POST.get("on", ""))
    form = PostForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            item = services.post(
                target=record, by=request.user, body=form.cleaned_data["body"], files=form.cleaned_data["files"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                messages.success(request, "Posted.")
                return _back(request, record, f"#item-{item.pk}")
            context = {"on": record_key(record), "form": PostForm(), "posted": True, "following": True}
            response = render(request, f"{PANEL}#posted", context)
            return trigger_client_event(response, REFRESH_EVENT, {})
    if not request.htmx:
        # Without JavaScript: back to the page, the errors as a message (what was typed is lost).
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, record, "#feed-panel")
    return render(request, f"{PANEL}#composer", {"on": record_key(record), "form": form}, status=400)


def _back(request, record, anchor: str):
    url = registry.record_url(ContentType.objects.get_for_model(record).pk, record.pk) or "/"
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}):
        url = referer.split("#")[0]
    return redirect(url + anchor)


@require_POST
@_bad_request_on_error
def follow_record(request):
    """The follow button: `action=follow` or `unfollow` the record `on=` names."""
    record = _record(request, request.POST.get("on", ""))
    action = request.POST.get("action")
    if action == "follow":
        services.follow_checked(by=request.user, target=record)
    elif action == "unfollow":
        services.unfollow(request.user, record)
    else:
        raise BadRequest("action must be follow or unfollow.")
    following = action == "follow"
    if not request.htmx:
        return _back(request, record, "")
    return render(
        request, f"{PANEL}#follow_button", {"on": record_key(record), "following": following, "record": record}
    )


# --- Items: comments, likes, attachments --------------------------------------------


def _item(request, pk: int) -> FeedItem:
    """The item with everything its card shows, if the user may see its record (else 404)."""
    items = selectors.with_details(
        selectors.items_visible_to(request.user, FeedItem.objects.filter(pk=pk)).select_related("actor"), request.user
    )
    item = items.first()
    if item is None:
        raise Http404("No such item.")
    return item


@require_http_methods(["GET", "POST"])
def item_comments(request, pk: int):
    """GET: the item's comments, all of them ("Show all n comments"), or with
    `part=form` the comment box (the item's "Comment" button opens it). POST: answer
    under the item; the comments again with the new one and the box still open (or
    the box with its error, 400)."""
    item = _item(request, pk)
    if request.method == "GET" and request.GET.get("part") == "form":
        return render(request, f"{ITEM}#comment_form", {"item": item, "comment_form": CommentForm()})
    if request.method == "GET":
        return render(request, f"{ITEM}#comments", {"item": item, "comments": list(selectors.all_comments(item))})
    form = CommentForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.comment(item=item, by=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                return _back_to_item(request, item)
            item = _item(request, pk)
            form = CommentForm()
    if form.errors:
        if not request.htmx:
            for error in form.errors.get("body", []):
                messages.error(request, error)
            return _back_to_item(request, item)
        status = 400
    comments = list(reversed(item.latest_comments))
    response = render(
        request, f"{ITEM}#comments", {"item": item, "comments": comments, "comment_form": form}, status=status
    )
    if status == 200:  # the card's "n comments" counts the new one too
        response.content += render_to_string(f"{ITEM}#comment_count", {"item": item, "oob": True}).encode()
    return response


def _back_to_item(request, item):
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}):
        return redirect(f"{referer.split('#')[0]}#item-{item.pk}")
    return redirect(f"{item.target_url or '/feed/'}#item-{item.pk}")


@require_POST
def item_like(request, pk: int):
    """The Like button: `action=like` or `unlike`; the button again, with its count."""
    item = _item(request, pk)
    if request.POST.get("action") == "unlike":
        services.unlike(item=item, by=request.user)
    else:
        services.like(item=item, by=request.user)
    item = _item(request, pk)
    if not request.htmx:
        return _back_to_item(request, item)
    return render(request, f"{ITEM}#like", {"item": item})


def download_attachment(request, pk: int):
    """An attachment, for whoever may see its item's record: never a public media URL.
    Always a download (never shown inline), its type never guessed by the browser."""
    attachment = get_object_or_404(Attachment, pk=pk)
    if not selectors.items_visible_to(request.user, FeedItem.objects.filter(pk=attachment.item_id)).exists():
        raise Http404("No such attachment.")
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is no longer stored.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- @mention suggestions -----------------------------------------------------------


@require_GET
@_bad_request_on_error
def mention_suggestions(request):
    """People to @mention: `body=` the text up to the cursor; when it ends in "@…",
    up to 8 people whose username or name starts so and who may see the record `on=`."""
    record = _record(request, request.GET.get("on", ""))
    query = mention_at_cursor(request.GET.get("body", "")[-200:])
    people = []
    if query is not None:
        candidates = services.mentionable_users().exclude(pk=request.user.pk)
        if query:
            candidates = candidates.filter(
                Q(username__istartswith=query) | Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
            )
        for person in candidates.order_by("first_name", "last_name", "username")[: MENTION_SUGGESTIONS * 3]:
            if registry.may_see(person, record):
                people.append(person)
            if len(people) == MENTION_SUGGESTIONS:
                break
    return render(
        request,
        f"{PANEL}#mention_list",
        {"people": people, "query": query, "list_id": request.GET.get("list", "mention-list")[:40]},
    )


# --- My feed and a person's feed ----------------------------------------------------


@require_GET
@_bad_request_on_error
def my_feed(request):
    """Items on what I follow and those that mention me, newest first."""
    feed_filter = _feed_filter(request)
    before = _optional_int(request, "before")
    items = selectors.my_feed(request.user, feed_filter=feed_filter, before=before)
    context = stream_context(
        request,
        on="inbox",
        items=items,
        feed_filter=feed_filter,
        newest=live.newest_in_inbox(request.user.pk) if before is None else 0,
        filter_url=_items_url(),
    )
    context["follows_anything"] = bool(context["items"]) or request.user.follows.exists()
    if request.htmx and before is not None:
        return render(request, f"{PANEL}#page", context)
    return render(request, MY_FEED, context)


@require_GET
def person_feed(request, pk: int):
    """A person's page: who they are, the follow button, what they posted and did."""
    User = get_user_model()
    person = registry.find_record(request.user, User._meta.label_lower, pk)
    if person is None:
        raise Http404("No such person.")
    return render(request, PERSON, {"person": person, "is_me": person.pk == request.user.pk})


# --- Live updates ---------------------------------------------------------------------


def _session_user_id(request) -> int | None:
    """Whose session this is, read from the session alone: no user row is loaded."""
    return _int(request.session.get(SESSION_KEY))


@login_not_required  # checked below from the session, so "nothing new" costs no user query
@require_GET
def live_check(request):
    """ "Anything new since `after`?" for an open record page (`?on=crm.customer:12`)
    or My feed (`?on=inbox`).

    Open pages ask every FEED_LIVE_INTERVAL_MS, so the usual answer must cost next to
    nothing: 204 "nothing new", from the cache, knowing the person only by the id their
    session holds. With news, 200 and the new items to put on top — and that answer
    goes through full authentication and the record's visibility like any page. A
    signed-out poll gets 401 and asks the page to reload (to the sign-in page)."""
    user_id = _session_user_id(request)
    if user_id is None:
        response = HttpResponse(status=401)
        response["HX-Refresh"] = "true"
        return response
    after = _int(request.GET.get("after"))
    on = request.GET.get("on", "")
    if after is None:
        return HttpResponse(status=400)
    if on == "inbox":
        newest = live.newest_in_inbox(user_id)
    else:
        key = parse_record_key(on)
        if key is None:
            return HttpResponse(status=400)
        newest = live.newest_on_record(*key)
    if newest <= after:
        response = HttpResponse(status=204)
    elif not request.user.is_authenticated:  # a session whose user is gone or changed password
        response = HttpResponse(status=401)
        response["HX-Refresh"] = "true"
    else:
        try:
            with user_formats(request):
                response = new_items(request, on, after, newest)
        except BadRequest:
            response = HttpResponse(status=400)
    # Said here, so core.middleware.PrivatePagesMiddleware need not load the user to say it.
    patch_cache_control(response, private=True, no_store=True)
    return response


def new_items(request, on: str, after: int, newest: int):
    """The items newer than `after` on `on` that the user may see, for the top of the
    list; the poller comes along (out of band) asking from `newest` on next time."""
    feed_filter = _feed_filter(request)
    if on == "inbox":
        items = selectors.my_feed(request.user, feed_filter=feed_filter)
    else:
        items = selectors.record_feed(request.user, _record(request, on), feed_filter=feed_filter)
    page = list(selectors.newer_than(items, after)[:PAGE_SIZE])
    context = {
        **_here(on),
        "on": on,
        "items": page,
        "feed_filter": feed_filter,
        "after": max(newest, page[0].pk if page else after),
        "live_interval": settings.FEED_LIVE_INTERVAL_MS,
        "new_count": len(page),
    }
    # News often comes with a notification (a mention): the bell counts it at once too.
    response = with_bell(request, render(request, f"{PANEL}#live", context))
    return response
