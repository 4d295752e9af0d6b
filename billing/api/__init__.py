"""Billing's REST API, one module per kind of record; config/api_router registers them."""
