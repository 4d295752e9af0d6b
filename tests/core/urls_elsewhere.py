"""The whole site under /elsewhere/: a second URLconf (tests/core/test_cached_url.py)."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("config.urls"))]
