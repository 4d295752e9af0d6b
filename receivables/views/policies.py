"""Dunning policies' pages: the list (the default marked, each policy's ladder of levels
and how many customers follow it) and a policy's page — read-only for who may only read,
an edit form for finance managers with its levels as an inline formset (add a level,
remove one). The levels are checked by receivables.dunning.save_policy: overlapping or
unordered levels, a template field it does not know, a sent level removed, come back as
messages on the form, with everything typed kept.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.forms.utils import ErrorDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.concurrency import StaleVersion

from .. import dunning
from ..forms_dunning import DunningLevelFormSet, DunningPolicyForm, level_initial
from ..models import DunningLevel, DunningPolicy, Standing
from ..permissions import can_edit_dunning_policies, can_view_dunning_policies

FORM_TEMPLATE = "receivables/policies/policy_form.html"
LEVELS_PREFIX = "levels"


def _may_read(user) -> None:
    if not can_view_dunning_policies(user):
        raise PermissionDenied("You may not see the dunning policies.")


def _may_edit(user) -> None:
    _may_read(user)
    if not can_edit_dunning_policies(user):
        raise PermissionDenied("Only finance managers edit dunning policies.")


@require_GET
def policy_list(request):
    """GET /receivables/dunning/policies/: the default first, then by name; three queries."""
    _may_read(request.user)
    dunning.get_default_policy()  # made on first use, as the run would
    policies = list(
        DunningPolicy.objects.prefetch_related(Prefetch("levels", queryset=DunningLevel.objects.order_by("order")))
    )
    following = dict(
        Standing.objects.filter(dunning_policy__isnull=False)
        .values("dunning_policy_id")
        .annotate(count=Count("pk"))
        .values_list("dunning_policy_id", "count")
    )
    for policy in policies:
        policy.customer_count = following.get(policy.pk, 0)
    context = {"policies": policies, "may_edit": can_edit_dunning_policies(request.user)}
    return render(request, "receivables/policies/policy_list.html", context)


def _apply_errors(form: DunningPolicyForm, formset, error: ValidationError) -> list[str]:
    """The service's refusal: on the policy's own fields where it names one; anything about
    the levels (overlaps, order, a sent level) as messages above the levels."""
    level_errors = []
    for field, field_messages in error.message_dict.items():
        if field in form.fields:
            form.add_error(field, field_messages)
        elif field == "__all__":
            form.add_error(None, field_messages)
        else:
            level_errors += field_messages
    return level_errors


def _render(request, *, policy, form, formset, level_errors=(), status=200):
    context = {
        "policy": policy,
        "form": form,
        "formset": formset,
        "level_errors": list(level_errors),
        "template_fields": sorted(dunning.TEMPLATE_FIELDS.items()),
        "may_edit": True,
    }
    return render(request, FORM_TEMPLATE, context, status=status)


def _edit(request, policy: DunningPolicy | None):
    _may_edit(request.user)
    if request.method == "GET":
        form = DunningPolicyForm(policy=policy)
        initial = level_initial(policy) if policy else [{"days_after_due": 3, "name": "Friendly reminder"}]
        formset = DunningLevelFormSet(prefix=LEVELS_PREFIX, initial=initial)
        return _render(request, policy=policy, form=form, formset=formset)

    form = DunningPolicyForm(request.POST, policy=policy)
    formset = DunningLevelFormSet(request.POST, prefix=LEVELS_PREFIX)
    if request.POST.get("_action") == "add":
        # Another row, without saving: the formset again with one more (blank) form.
        data = request.POST.copy()
        total_key = f"{LEVELS_PREFIX}-TOTAL_FORMS"
        try:
            total = int(data.get(total_key, "0"))
        except ValueError:
            total = 0
        data[total_key] = str(min(max(total, 0), 49) + 1)
        formset = DunningLevelFormSet(data, prefix=LEVELS_PREFIX)
        form = DunningPolicyForm(data, policy=policy)
        return _render(request, policy=policy, form=_unchecked(form), formset=_unchecked_set(formset))
    form_valid = form.is_valid()  # both checked: every error shows at once
    if not (formset.is_valid() and form_valid):
        level_errors = list(formset.non_form_errors())
        rows = sum(1 for errors in formset.errors if errors)
        if rows:
            level_errors.append(f"Correct the {rows} level{'s' if rows != 1 else ''} marked below.")
        return _render(request, policy=policy, form=form, formset=formset, level_errors=level_errors, status=400)
    data = form.cleaned_data
    try:
        saved = dunning.save_policy(
            by=request.user,
            name=data["name"],
            levels=formset.levels(),
            policy=policy,
            is_default=data["is_default"],
            active=data["active"],
            expected_version=data["version"],
        )
    except StaleVersion:
        form.stale(current=DunningPolicy.objects.get(pk=policy.pk))
        return _render(request, policy=policy, form=form, formset=formset, status=409)
    except ValidationError as error:
        level_errors = _apply_errors(form, formset, error)
        return _render(request, policy=policy, form=form, formset=formset, level_errors=level_errors, status=400)
    messages.success(request, f"The policy “{saved.name}” is saved; the next run follows it.")
    return redirect("receivables:dunning_policy_detail", pk=saved.pk)


def _unchecked(form):
    """A bound form shown again as typed, without errors (a row was added, nothing saved):
    its errors are set empty, so rendering it does not validate it."""
    form._errors = ErrorDict()
    return form


def _unchecked_set(formset):
    for form in formset.forms:
        _unchecked(form)
    formset._errors = [form.errors for form in formset.forms]
    formset._non_form_errors = formset.error_class()
    return formset


@require_http_methods(["GET", "POST"])
def policy_create(request):
    """GET/POST /receivables/dunning/policies/new/ (finance managers)."""
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
def policy_detail(request, pk: int):
    """GET /receivables/dunning/policies/<id>/: the policy, editable by finance managers,
    read-only for who may only read; POST saves it."""
    _may_read(request.user)
    policy = get_object_or_404(DunningPolicy, pk=pk)
    if can_edit_dunning_policies(request.user):
        return _edit(request, policy)
    if request.method == "POST":
        raise PermissionDenied("Only finance managers edit dunning policies.")
    context = {
        "policy": policy,
        "levels": list(policy.levels.order_by("order")),
        "customer_count": Standing.objects.filter(dunning_policy=policy).count(),
        "list_url": reverse("receivables:dunning_policy_list"),
    }
    return render(request, "receivables/policies/policy_detail.html", context)


urlpatterns = [
    path("receivables/dunning/policies/", policy_list, name="dunning_policy_list"),
    path("receivables/dunning/policies/new/", policy_create, name="dunning_policy_create"),
    path("receivables/dunning/policies/<int:pk>/", policy_detail, name="dunning_policy_detail"),
]
