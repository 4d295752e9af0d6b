"""Who may do what on the feed: one table, checked through the services (the pages
and the API answer from the same collaboration.permissions; their tests check the
channel-specific answers: 403/404 and the hidden buttons).

The record is a customer owned by `rep`; the approval kind is the test-only
"Discount over 20%", decided by sales managers, asked by `rep`.
"""

import pytest
from django.core.exceptions import PermissionDenied

from collaboration import permissions, services
from collaboration.models import ApprovalRequest

pytestmark = pytest.mark.django_db

MATRIX = """
actor            read  post  comment  like  follow  request  decide
rep              yes   yes   yes      yes   yes     yes      no
other_rep        yes   yes   yes      yes   yes     yes      no
sales_manager    yes   yes   yes      yes   yes     yes      yes
clerk            yes   yes   yes      yes   yes     yes      no
finance_manager  yes   yes   yes      yes   yes     yes      no
admin            yes   yes   yes      yes   yes     yes      yes
outsider         no    no    no       no    no      no       no
"""


def _parse(table):
    header, *rows = [line.split() for line in table.strip().splitlines()]
    return {(row[0], action): value == "yes" for row in rows for action, value in zip(header[1:], row[1:], strict=True)}


EXPECTED = _parse(MATRIX)
ACTORS = sorted({actor for actor, _ in EXPECTED})


def _attempt(action, user, customer, item, approval):
    if action == "read":
        return permissions.can_read(user, customer)
    if action == "post":
        services.post(target=customer, by=user, body="Checking in")
    elif action == "comment":
        services.comment(item=item, by=user, body="Agreed")
    elif action == "like":
        services.like(item=item, by=user)
    elif action == "follow":
        services.follow_checked(by=user, target=customer)
    elif action == "request":
        approval.delete()  # one pending request per kind and record: make room for this one
        services.request_approval(target=customer, kind="test.discount", by=user)
    elif action == "decide":
        services.decide_approval(approval=approval, by=user, approve=True)
    return True


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ["read", "post", "comment", "like", "follow", "request", "decide"])
def test_the_services_follow_the_matrix(actor, action, actors, customer, discount_kind):
    user = actors[actor]
    item = services.post(target=customer, by=actors["other_rep"], body="Renewal call tomorrow")
    approval = services.request_approval(target=customer, kind="test.discount", by=actors["rep"])
    if actor == "rep" and action == "decide":
        approval = ApprovalRequest.objects.get(pk=approval.pk)  # rep asked: deciding it is their own
    try:
        allowed = _attempt(action, user, customer, item, approval)
    except PermissionDenied:
        allowed = False
    assert allowed == EXPECTED[(actor, action)]


@pytest.mark.parametrize("actor", ACTORS)
def test_the_decide_check_agrees_with_the_service(actor, actors, customer, discount_kind):
    approval = services.request_approval(target=customer, kind="test.discount", by=actors["rep"])
    assert permissions.can_decide(actors[actor], approval) == EXPECTED[(actor, "decide")]
