"""Placeholder routes: the helper building this module replaces it whole (its URL names are fixed)."""

from django.http import Http404
from django.urls import path


def _not_built(request, *args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [
    path("billing/plans/", _not_built, name="plan_list"),
    path("billing/plans/<int:pk>/", _not_built, name="plan_detail"),
    path("billing/runs/", _not_built, name="run_list"),
    path("billing/runs/<int:pk>/", _not_built, name="run_detail"),
]
