"""Placeholder routes: the helper building this module replaces it whole (its URL names are fixed)."""

from django.http import Http404
from django.urls import path


def _not_built(request, *args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [
    path("catalog/products/", _not_built, name="product_list"),
    path("catalog/tax-rates/", _not_built, name="taxrate_list"),
    path("catalog/stages/", _not_built, name="stage_list"),
]
