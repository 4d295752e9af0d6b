"""Placeholder routes: the helper building this module replaces it whole (its URL names are fixed)."""

from django.http import Http404
from django.urls import path


def _not_built(request, *args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [
    path("deals/", _not_built, name="opportunity_list"),
    path("deals/board/", _not_built, name="opportunity_board"),
    path("deals/forecast/", _not_built, name="opportunity_forecast"),
    path("customers/<int:pk>/deals/new/", _not_built, name="opportunity_create"),
    path("deals/<int:pk>/", _not_built, name="opportunity_detail"),
    path("deals/<int:pk>/edit/", _not_built, name="opportunity_edit"),
]
