"""Receivables pages: statements (routes filled in by this module)."""

urlpatterns: list = []
