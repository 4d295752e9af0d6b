"""Who may do what on the feed: the one place services, pages and the API ask.

- Anyone with a Concord role reads the feed of every record they may see (each app
  decides who sees its records: collaboration.registry) and only those items.
- They post, comment, like and follow there (`collaboration.add_feeditem`, held by
  every role), and ask for the approvals a record offers.
- A request is decided by the approvers its kind names, never by whoever asked.
- Only people with the role to post may be @mentioned; customers and their contacts
  are never users, so never followers, and the feed is never emailed to them.
"""

from .registry import approval_kind, may_see


def can_read(user, record) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and may_see(user, record)


def can_post(user, record) -> bool:
    return can_read(user, record) and user.has_perm("collaboration.add_feeditem")


def can_follow(user, record) -> bool:
    return can_read(user, record)


def can_comment(user, item) -> bool:
    """Comment on, or like, an item: whoever may post where it is and see its record."""
    record = item.target
    return record is not None and can_post(user, record)


def can_request_approval(user, record) -> bool:
    return can_post(user, record)


def can_decide(user, approval) -> bool:
    kind = approval_kind(approval.kind)
    if kind is None or approval.requested_by_id == getattr(user, "pk", None):
        return False
    record = approval.target
    return record is not None and kind.may_approve(user) and may_see(user, record)


def can_see_approval(user, approval) -> bool:
    return (
        approval.requested_by_id == getattr(user, "pk", None)
        or can_decide(user, approval)
        or (approval.target is not None and can_read(user, approval.target))
    )
