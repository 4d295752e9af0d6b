import pytest

from accounts.roles import SALES_MANAGER
from collaboration import registry
from crm.models import Customer


class Decisions:
    """What the test approval kind's callback was told."""

    def __init__(self):
        self.calls = []
        self.refuse = None

    def __call__(self, approval, *, by):
        if self.refuse:
            raise self.refuse
        self.calls.append((approval.pk, approval.status, by.pk))


@pytest.fixture
def decisions():
    return Decisions()


@pytest.fixture
def discount_kind(decisions):
    """A test-only approval kind: a discount over 20% on a customer, decided by sales managers."""
    kind = registry.ApprovalKind(
        key="test.discount",
        label="Discount over 20%",
        model=Customer,
        approver_groups=(SALES_MANAGER,),
        on_decided=decisions,
    )
    registry.register_approval_kind(kind)
    yield kind
    registry.unregister_approval_kind(kind.key)
