"""Gapless numbers per series and year: Q-2026-000001, INV-2026-000142.

    number = next_number("Q", year=issue_date.year)   # inside the transaction that uses it

The series' row (core.models.Sequence) is locked until the caller's transaction ends,
so two quotes made at once get consecutive numbers, and a transaction that rolls back
gives its number back: no gaps, no duplicates. Callers keep the transaction short.
"""

from django.db import transaction

from .models import Sequence


def next_number(series: str, year: int, *, width: int = 6) -> str:
    """The next number of `series` in `year`, e.g. next_number("Q", 2026) → "Q-2026-000001"."""
    with transaction.atomic():
        # get_or_create under select_for_update: the row is created once (a racing
        # creator's IntegrityError makes it read the row, locked) and locked either way.
        sequence, _ = Sequence.objects.select_for_update().get_or_create(key=series, year=year)
        sequence.last += 1
        sequence.save(update_fields=["last"])
    return f"{series}-{year}-{sequence.last:0{width}d}"
