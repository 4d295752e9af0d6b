"""The feed on every record. Other apps use its public services:

    import collaboration
    collaboration.publish(invoice, "invoice.issued", actor=by, data={"number": ...})
    collaboration.follow(user, customer)
    with collaboration.tracking(opportunity, by=by): ...

and register their models, events and approval kinds (collaboration.registry).
"""

PUBLIC = (
    "publish",
    "follow",
    "unfollow",
    "tracked_values",
    "publish_changes",
    "tracking",
    "forget_record",
    "request_approval",
)


def __getattr__(name):
    # Loaded on first use: the package is imported while apps load, before models may be.
    if name in PUBLIC:
        from . import services

        return getattr(services, name)
    raise AttributeError(name)
