"""Dunning runs' pages: the runs with their summaries and effectiveness, "New run" (an
as-of day → the preview: who gets what at which level, who is skipped and why → "Run"),
a run's page with a progress bar polled while it runs, and each notice as it was sent.

Views parse the request, call receivables.dunning and render; who may do what comes from
receivables.permissions. A future day or a second run while one runs is a form error.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import documents
from crm.models import Customer

from .. import dunning
from ..models import DunningNotice, DunningRun
from ..permissions import can_run_dunning, can_view_dunning

PER_PAGE = 25
SKIP_LABELS = {
    "deal": "late-stage deal",
    "service_case": "serious service case",
    "dispute": "dispute",
    "promise": "promise to pay",
    "manual_hold": "manual hold",
    "recent_notice": "notice in the last 48 hours",
    "waiting_for_task": "waiting for the owner's call",
}


def _may_read(user) -> None:
    if not can_view_dunning(user):
        raise PermissionDenied("You may not see dunning runs.")


def _may_run(user) -> None:
    _may_read(user)
    if not can_run_dunning(user):
        raise PermissionDenied("Only finance runs dunning.")


def _skipped(totals: dict) -> list[tuple[str, int]]:
    return [(SKIP_LABELS.get(reason, reason), count) for reason, count in (totals or {}).items()]


@require_GET
def run_list(request):
    """GET /receivables/dunning/: the runs, newest first, with their summaries, and what
    dunning collected per level within 14 days, per run and per month."""
    _may_read(request.user)
    page = Paginator(DunningRun.objects.select_related("started_by"), PER_PAGE).get_page(request.GET.get("page"))
    runs = list(page.object_list)
    effectiveness = dunning.dunning_effectiveness()
    for run in runs:
        run.skipped_list = _skipped(run.totals.get("skipped"))
        run.levels = effectiveness.per_run.get(run.pk, [])
    context = {
        "page": page,
        "runs": runs,
        "effectiveness": effectiveness,
        "months": list(effectiveness.per_month.items())[:6],
        "may_run": can_run_dunning(request.user),
        "running": DunningRun.objects.filter(status=DunningRun.Status.RUNNING).first(),
    }
    return render(request, "receivables/dunning/run_list.html", context)


@require_GET
def run_preview(request):
    """GET /receivables/dunning/new/ (?as_of=): choose the day; with a day, the preview."""
    _may_run(request.user)
    today = timezone.localdate()
    context = {"today": today, "as_of_value": request.GET.get("as_of", ""), "errors": []}
    if "as_of" in request.GET:
        try:
            plan = dunning.preview_dunning(as_of=request.GET.get("as_of"), by=request.user)
        except ValidationError as error:
            context["errors"] = error.messages
            return render(request, "receivables/dunning/run_new.html", context, status=400)
        names = dict(Customer.objects.filter(pk__in=[p.customer_id for p in plan.customers]).values_list("pk", "name"))
        context.update(
            plan=plan,
            names=names,
            skipped_counts=_skipped(plan.skipped_by_reason()),
            skip_labels=SKIP_LABELS,
            running=DunningRun.objects.filter(status=DunningRun.Status.RUNNING).first(),
        )
    return render(request, "receivables/dunning/run_new.html", context)


@require_POST
def run_start(request):
    """POST /receivables/dunning/start/ (as_of): start the run, then its page."""
    _may_run(request.user)
    try:
        run = dunning.run_dunning(as_of=request.POST.get("as_of"), by=request.user)
    except ValidationError as error:  # DunningConflict too: a run in progress
        messages.error(request, " ".join(error.messages))
        return redirect("receivables:dunning_run_new")
    return redirect("receivables:dunning_run_detail", pk=run.pk)


def run_context(run: DunningRun) -> dict:
    active = run.status == DunningRun.Status.RUNNING
    notices = (
        list(run.notices.select_related("customer", "level").order_by("customer__name", "pk")[:200])
        if not active
        else []
    )
    return {
        "run": run,
        "is_active": active,
        "skipped_list": _skipped(run.totals.get("skipped")),
        "notices": notices,
        "announcement": f"The dunning run is {run.get_status_display().lower()}.",
    }


@require_GET
def run_detail(request, pk: int):
    _may_read(request.user)
    run = get_object_or_404(DunningRun.objects.select_related("started_by"), pk=pk)
    context = run_context(run)
    context["levels"] = (
        dunning.dunning_effectiveness(runs=[run.pk]).per_run.get(run.pk, []) if not context["is_active"] else []
    )
    context["may_run"] = can_run_dunning(request.user)
    return render(request, "receivables/dunning/run_detail.html", context)


@require_GET
def run_progress(request, pk: int):
    """The progress partial the run page polls every second while the run runs."""
    _may_read(request.user)
    run = get_object_or_404(DunningRun.objects.select_related("started_by"), pk=pk)
    context = {**run_context(run), "announce": request.GET.get("shown") != run.status}
    return render(request, "receivables/dunning/run_detail.html#progress", context)


@require_POST
def run_resume(request, pk: int):
    _may_run(request.user)
    run = get_object_or_404(DunningRun, pk=pk)
    try:
        dunning.resume_run(run=run, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The run's remaining notices were handed to the workers again.")
    return redirect("receivables:dunning_run_detail", pk=run.pk)


@require_http_methods(["POST"])
def run_stop(request, pk: int):
    _may_run(request.user)
    run = get_object_or_404(DunningRun, pk=pk)
    try:
        dunning.stop_run(run=run, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The run was stopped; a new one may start.")
    return redirect("receivables:dunning_run_detail", pk=run.pk)


@require_GET
def notice_detail(request, pk: int):
    """GET /receivables/dunning/notices/<id>/: the notice as it was sent."""
    _may_read(request.user)
    notice = get_object_or_404(DunningNotice.objects.select_related("customer", "run", "level"), pk=pk)
    lines = list(notice.lines.select_related("invoice", "level"))
    letter = None
    if notice.channel == "letter" and notice.status == DunningNotice.Status.SENT:
        letter = documents.document_for(notice, dunning.LETTER_DOCUMENT)
    context = {"notice": notice, "lines": lines, "fees": list(notice.fees.all()), "letter": letter}
    return render(request, "receivables/dunning/notice_detail.html", context)


urlpatterns = [
    path("receivables/dunning/", run_list, name="dunning_run_list"),
    path("receivables/dunning/new/", run_preview, name="dunning_run_new"),
    path("receivables/dunning/start/", run_start, name="dunning_run_start"),
    path("receivables/dunning/runs/<int:pk>/", run_detail, name="dunning_run_detail"),
    path("receivables/dunning/runs/<int:pk>/progress/", run_progress, name="dunning_run_progress"),
    path("receivables/dunning/runs/<int:pk>/resume/", run_resume, name="dunning_run_resume"),
    path("receivables/dunning/runs/<int:pk>/stop/", run_stop, name="dunning_run_stop"),
    path("receivables/dunning/notices/<int:pk>/", notice_detail, name="dunning_notice_detail"),
]
