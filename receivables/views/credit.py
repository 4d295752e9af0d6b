"""Receivables pages: credit (routes filled in by this module)."""

urlpatterns: list = []
