"""Billing's pages, one module per kind of record; billing/urls.py routes them."""
