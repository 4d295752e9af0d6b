"""Status badges: a record's status as a coloured pill, the same on every page.

A model opts in by naming the Bootstrap colour of each status:

    class Customer(models.Model):
        STATUS_BADGES = {Status.ACTIVE: "success", Status.PROSPECT: "info"}

Statuses left out are grey ("secondary").
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString


def status_badge(record, field: str = "status") -> SafeString:
    value = getattr(record, field)
    label = getattr(record, f"get_{field}_display")()
    tone = getattr(record, "STATUS_BADGES", {}).get(value, "secondary")
    return format_html('<span class="badge rounded-pill status-badge text-bg-{}">{}</span>', tone, label)
