"""The approvals task list and its two operations: asking for approval on a record
(from the record's page, templatetags/approvals.py) and deciding a request.

Views parse, call collaboration.services and render. A refused operation answers
with the reason and its status (400 a missing comment, 403 not yours to decide,
409 already decided or already pending) and changes nothing; htmx swaps those
answers in too (data-swap-errors, concord.js)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..models import ApprovalRequest
from ..permissions import can_see_approval
from ..registry import approval_kinds, content_type_of, find_record, visible_records
from ..services import ApprovalError, decide_approval, request_approval
from .feed import parse_record_key
from .notifications import cursor, with_bell

TEMPLATE = "collaboration/approval_list.html"
ON_RECORD_TEMPLATE = "collaboration/includes/approvals_on_record.html"
PAGE_SIZE = 25


class Tab:
    DECIDE = "decide"
    MINE = "mine"
    DECIDED = "decided"
    CHOICES = ((DECIDE, "To decide"), (MINE, "My requests"), (DECIDED, "Decided"))


def approvable_condition(user) -> Q:
    """Requests `user` may decide, as one condition for the database: the kinds they
    may approve, on records they may see. Nothing when they approve no kind."""
    condition = Q(pk__in=[])
    for kind in approval_kinds():
        if not kind.may_approve(user):
            continue
        visible = visible_records(user, kind.model)
        if visible.query.is_empty():
            continue
        on_kind = Q(kind=kind.key, target_type_id=content_type_of(kind.model).pk)
        if visible.query.where:
            on_kind &= Q(target_id__in=visible.values("pk"))
        condition |= on_kind
    return condition


def approvals_for(user, tab: str, *, before: int | None = None):
    """One tab of the task list, newest first: what waits for `user`'s decision (never
    their own requests), what they asked for, and what was decided on theirs to decide."""
    approvals = ApprovalRequest.objects.select_related("requested_by", "decided_by")
    if tab == Tab.MINE:
        approvals = approvals.filter(requested_by=user)
    elif tab == Tab.DECIDED:
        approvals = approvals.exclude(status=ApprovalRequest.Status.PENDING).filter(
            Q(decided_by=user) | approvable_condition(user)
        )
    else:
        approvals = approvals.filter(approvable_condition(user), status=ApprovalRequest.Status.PENDING).exclude(
            requested_by=user
        )
    if before is not None:
        approvals = approvals.filter(pk__lt=before)
    return approvals.order_by("-id")


def _tab(value) -> str:
    return value if value in dict(Tab.CHOICES) else Tab.DECIDE


def list_context(request, tab: str, **extra) -> dict:
    before = cursor(request.GET.get("before"))
    rows = list(approvals_for(request.user, tab, before=before)[: PAGE_SIZE + 1])
    return {
        "approvals": rows[:PAGE_SIZE],
        "tab": tab,
        "tab_label": dict(Tab.CHOICES)[tab],
        "tabs": Tab.CHOICES,
        "before": before,
        "older": rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None,
        "deciding": tab == Tab.DECIDE,
        **extra,
    }


@require_GET
def approval_list(request):
    return render(request, TEMPLATE, list_context(request, _tab(request.GET.get("tab"))))


# --- Deciding ------------------------------------------------------------------------


def _refusal(error) -> tuple[int, dict, str]:
    """(status, field errors, message) for an operation the service refused."""
    if isinstance(error, ValidationError):
        fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        message = " ".join(message for messages_ in fields.values() for message in messages_)
        return 400, fields, message
    if isinstance(error, ApprovalError):
        return 409, {}, str(error)
    return 403, {}, str(error) or "You may not do this."


@require_POST
def approval_decide(request, pk: int):
    """Approve or reject (`decision=approve|reject`, `comment`): the row again, decided,
    or with the reason it was not."""
    approval = get_object_or_404(ApprovalRequest.objects.select_related("requested_by", "decided_by"), pk=pk)
    if not can_see_approval(request.user, approval):
        raise Http404("No such approval request.")
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "")
    try:
        if decision not in ("approve", "reject"):
            raise ValidationError({"decision": "Choose Approve or Reject."})
        approval = decide_approval(approval=approval, by=request.user, approve=decision == "approve", comment=comment)
    except (ValidationError, PermissionDenied, ApprovalError) as error:
        status, errors, message = _refusal(error)
        approval.refresh_from_db()
        row = {"approval": approval, "deciding": True, "errors": errors, "error": message, "comment": comment}
        if request.htmx:
            return render(request, f"{TEMPLATE}#row", row, status=status)
        context = list_context(request, Tab.DECIDE, page_error=message)
        return render(request, TEMPLATE, context, status=status)
    done = f"{approval.get_status_display()}: {approval.kind_label} on {approval.target_label}."
    if request.htmx:
        row = render(request, f"{TEMPLATE}#row", {"approval": approval, "deciding": True, "notice": done})
        return with_bell(request, row)  # the approver's reminder of this request is read now
    messages.success(request, done)
    return redirect(f"{reverse('collaboration:approvals')}?tab={Tab.DECIDE}")


# --- Asking ----------------------------------------------------------------------------


def record_approvals_context(request, record, **extra) -> dict:
    """What the record's approvals panel shows (templatetags/approvals.py)."""
    from ..registry import approval_kinds_for

    type_id = content_type_of(record).pk
    # Most records have no approvals: prefetched, the people cost no join to build when
    # there is none (two JOINs of the user table were most of this read's Python time).
    approvals = (
        ApprovalRequest.objects.filter(target_type_id=type_id, target_id=record.pk)
        .prefetch_related("requested_by", "decided_by")
        .order_by("-id")
    )
    return {
        "record": record,
        "record_key": f"{type(record)._meta.label_lower}:{record.pk}",
        "record_approvals": list(approvals[:10]),
        "kinds": approval_kinds_for(type(record)),
        "request": request,
        "user": request.user,
        **extra,
    }


@require_POST
def approval_request(request):
    """Ask for approval on a record (`on=crm.customer:12`, `kind`, `reason`)."""
    on = request.POST.get("on", "")
    key = parse_record_key(on)
    record = find_record(request.user, on.partition(":")[0], key[1]) if key else None
    if record is None:
        raise Http404("No such record.")
    kind, reason = request.POST.get("kind", ""), request.POST.get("reason", "")
    try:
        approval = request_approval(target=record, kind=kind, by=request.user, reason=reason)
    except (ValidationError, PermissionDenied, ApprovalError) as error:
        status, errors, message = _refusal(error)
        if request.htmx:
            context = record_approvals_context(
                request, record, errors=errors, error=message, chosen_kind=kind, reason=reason
            )
            return render(request, ON_RECORD_TEMPLATE, context, status=status)
        messages.error(request, message)
        return redirect(_record_page(record))
    notice = f"Asked for approval: {approval.kind_label}. The approvers are told."
    if request.htmx:
        return render(request, ON_RECORD_TEMPLATE, record_approvals_context(request, record, notice=notice))
    messages.success(request, notice)
    return redirect(_record_page(record))


def _record_page(record) -> str:
    from ..registry import record_url

    return record_url(content_type_of(record).pk, record.pk) or reverse("collaboration:approvals")
