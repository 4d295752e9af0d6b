"""Post and comment text: plain text in, escaped HTML out, with web addresses and
@mentions made into links. Nothing a person types is ever trusted as HTML."""

import re
from collections.abc import Mapping

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# @username as Django allows usernames (letters, digits, @ . + - _), not inside a
# word or an email address ("ann@example.com" mentions nobody).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*\w)")
URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def mentioned_usernames(text: str) -> list[str]:
    """The usernames @mentioned in `text`, in order, each once."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        seen.setdefault(match.group(1), None)
    return list(seen)


def mention_at_cursor(text: str) -> str | None:
    """The partial username being typed at the end of `text` ("please ask @cl" → "cl"),
    or None when the text does not end in a mention: the composer's suggestions."""
    match = re.search(r"(?<![\w@.+-])@([\w.+-]*)$", text or "")
    return match.group(1) if match else None


def _split_url(url: str) -> tuple[str, str]:
    """A URL without the punctuation that ends the sentence around it."""
    trailing = ""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        trailing = url[-1] + trailing
        url = url[:-1]
    return url, trailing


def render_text(text: str, people: Mapping[str, str] | None = None) -> SafeString:
    """`text` as HTML: escaped, line breaks kept (by CSS), URLs linked, and the
    @mentions of `people` (username → profile URL) linked to the person."""
    people = people or {}
    pattern = re.compile(f"{URL.pattern}|{MENTION.pattern}", re.IGNORECASE)
    parts, position = [], 0
    for match in pattern.finditer(text or ""):
        parts.append(escape(text[position : match.start()]))
        position = match.end()
        username = match.group(1)
        if username is None:
            url, trailing = _split_url(match.group(0))
            parts.append(
                format_html('<a href="{}" rel="nofollow noopener noreferrer" target="_blank">{}</a>', url, url)
            )
            parts.append(escape(trailing))
        elif username in people:
            parts.append(format_html('<a class="mention" href="{}">@{}</a>', people[username], username))
        else:
            parts.append(escape(match.group(0)))
    parts.append(escape((text or "")[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped
