"""Optimistic concurrency: records that several people edit carry a `version`.

A service that changes such a record takes the version its caller read
(`expected_version`, None when the caller does not care), compares it with the
stored one under the row lock, and bumps it with the change:

    customer = Customer.objects.select_for_update().get(pk=pk)
    check_version(customer, expected_version)
    ...
    customer.version += 1

Pages turn StaleVersion into a form error, the API into 412 Precondition Failed
(core.api.concurrency). Invoices and payments use the same mechanism.
"""


class StaleVersion(Exception):
    """The record changed since the caller read it; nothing was saved."""

    def __init__(self, current_version: int, message: str = "The record was changed by someone else."):
        super().__init__(message)
        self.current_version = current_version


def check_version(record, expected_version: int | None) -> None:
    """Raise StaleVersion if `record` (read under a lock) is not at `expected_version`."""
    if expected_version is not None and record.version != expected_version:
        raise StaleVersion(record.version)
