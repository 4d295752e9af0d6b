"""Receivables pages: payments (routes filled in by this module)."""

urlpatterns: list = []
