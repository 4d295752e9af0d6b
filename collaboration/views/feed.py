"""Feed pages: the feed panel of every record, My feed, a person's feed, the bell's
notifications and the approvals task list. Views parse, call collaboration.services
and render; an htmx request gets the partial of the same template."""

from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from .. import live


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**63 else None


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


@require_GET
def live_check(request):
    """ "Anything new since `after`?" for an open record page (`?on=crm.customer:12`)
    or My feed (`?on=inbox`). 204 while nothing is: answered from the cache, with no
    query beyond the session's. With news, 200 and the new items to put on top."""
    after = _int(request.GET.get("after"))
    on = request.GET.get("on", "")
    if after is None:
        return HttpResponse(status=400)
    if on == "inbox":
        newest = live.newest_in_inbox(request.user.pk)
    else:
        key = parse_record_key(on)
        if key is None:
            return HttpResponse(status=400)
        newest = live.newest_on_record(*key)
    if newest <= after:
        return HttpResponse(status=204)
    return new_items(request, on, after)


def new_items(request, on: str, after: int):
    """The items newer than `after` on `on` that the user may see (pages render them)."""
    raise NotImplementedError  # the feed panel's partial renders these
