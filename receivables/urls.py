"""Receivables' pages. Each module of receivables.views routes its own records here."""

from .views import aging, credit, payments, statements

app_name = "receivables"
urlpatterns = [*payments.urlpatterns, *aging.urlpatterns, *credit.urlpatterns, *statements.urlpatterns]
