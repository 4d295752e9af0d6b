"""The CRM's pages, one module per kind of record; crm/urls.py routes them."""
