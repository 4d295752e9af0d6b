"""What every list page does with a page number or filters it cannot use.

A list never answers a hand-edited URL with an error page: a page that does not
exist shows the first page with a notice, and an invalid filter is shown as an
error on that filter instead of as "nothing matches".
"""

from django import forms
from django.http import HttpRequest


def missing_page_notice(request: HttpRequest, table) -> str:
    """A sentence for the page when `?page=` asked for a page the list does not have
    (past the end, below 1, not a number); "" when the page shown is the one asked for."""
    asked = request.GET.get(table.prefixed_page_field, "").strip()
    page = getattr(table, "page", None)
    if not asked or page is None:
        return ""
    try:
        if int(asked) == page.number:
            return ""
    except ValueError:
        pass
    if len(asked) > 30:
        asked = asked[:30] + "…"
    shown = "the first page" if page.number == 1 else f"page {page.number}"
    return f"There is no page {asked} of this list; here is {shown}."


def mark_invalid_filters(form: forms.Form, *, always_shown: tuple[str, ...]) -> list[str]:
    """Mark the filters whose value was refused (Bootstrap's `is-invalid`) and return
    the names of the fields the filter bar must show: those it always shows, plus any
    other filter that was given in the URL (so its value, or its error, is visible)."""
    shown = []
    for name, field in form.fields.items():
        bound = form[name]
        if name in always_shown or bound.errors or bound.data not in (None, ""):
            shown.append(name)
        if bound.errors:
            classes = field.widget.attrs.get("class", "form-control").split()
            field.widget.attrs["class"] = " ".join([*classes, "is-invalid"])
        elif name not in always_shown:
            field.widget.attrs.setdefault("class", "form-control")
    return shown
