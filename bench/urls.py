"""The bench's URLconf: the whole app plus the hand-written baseline view."""

from django.urls import include, path

from bench import views
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401  (the same error pages)

urlpatterns = [
    path("bench/baseline/customers/", views.customer_list_baseline, name="bench_baseline_customers"),
    path("", include("config.urls")),
]
