"""The bell in the top bar of every signed-in page."""

from functools import cached_property

from . import live


class Bell:
    """The signed-in person's unread count, read only when a template shows it, and
    then from the cache (collaboration.live): a page costs no query for its bell."""

    def __init__(self, user_id: int):
        self.user_id = user_id

    @cached_property
    def unread(self) -> int:
        return live.unread_count(self.user_id)


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell": Bell(user.pk)}
