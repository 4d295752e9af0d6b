"""Receivables pages: aging (routes filled in by this module)."""

urlpatterns: list = []
