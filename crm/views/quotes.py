"""Placeholder routes: the helper building this module replaces it whole (its URL names are fixed)."""

from django.http import Http404
from django.urls import path


def _not_built(request, *args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [
    path("deals/<int:pk>/quotes/new/", _not_built, name="quote_create"),
    path("quotes/<int:pk>/", _not_built, name="quote_detail"),
    path("quotes/<int:pk>/pdf/", _not_built, name="quote_pdf"),
]
