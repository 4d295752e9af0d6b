"""Placeholder routes: the helper building this module replaces it whole (its URL names are fixed)."""

from django.http import Http404
from django.urls import path


def _not_built(request, *args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [
    path("leads/", _not_built, name="lead_list"),
    path("leads/new/", _not_built, name="lead_create"),
    path("leads/<int:pk>/", _not_built, name="lead_detail"),
    path("leads/<int:pk>/edit/", _not_built, name="lead_edit"),
    path("leads/<int:pk>/convert/", _not_built, name="lead_convert"),
]
