"""How a customer pays: average days late and to pay, DSO, share paid late, a trend.
Computed in SQL and cached on receivables.models.Standing; refreshed after every
change to the customer's invoices or payments (receivables.services, billing's ledger hook)."""


def refresh(customer_id: int) -> None:
    """Recompute the customer's cached payment behaviour (placeholder until the
    behaviour queries land; nothing reads the cache yet)."""
    return None
