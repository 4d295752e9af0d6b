"""Icons: one SVG sprite (static/icons/sprite.svg) of the icons the pages use.

    {% load concord %}{% icon "building" %}               decorative (aria-hidden)
    {% icon "trash" label="Delete Ada" %}                 meaningful: role="img" + its name
    {% icon "pen" "icon-fw me-1" %}                       extra classes

Python that builds markup calls `icon("building")`. The sprite is one cached
request for every page instead of an icon font plus its CSS. A new icon is added
with `manage.py build_icons --source DIR` (DIR: Font Awesome Free's svgs/solid),
which rewrites the sprite from the names the code uses; tests/core/test_static.py
fails while a used name is missing from it.
"""

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.utils.html import format_html

SPRITE = "icons/sprite.svg"
# Names used as `{% icon "x" %}`, `icon("x")` or `data-icon="x"`.
USAGE = re.compile(r"""(?:\{%\s*icon|\bicon\(|data-icon=)\s*["']([a-z0-9-]+)["']""")


@lru_cache(maxsize=1024)
def icon(name: str, css_class: str = "", label: str = "") -> str:
    # Remembered: a page of feed cards or list rows draws the same few icons dozens of times.
    classes = f"icon {css_class}".strip()
    href = f"{static(SPRITE)}#{name}"
    if label:
        return format_html(
            '<svg class="{}" role="img" aria-label="{}" focusable="false"><use href="{}"></use></svg>',
            classes,
            label,
            href,
        )
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', classes, href
    )


def _forget_icons(setting, **kwargs):
    if setting in ("STATIC_URL", "STORAGES"):
        icon.cache_clear()


setting_changed.connect(_forget_icons)


def used_icons(base: Path | None = None) -> set[str]:
    """Every icon name the templates, Python modules and scripts of the project use."""
    base = Path(base or settings.BASE_DIR)
    patterns = ("templates/**/*.html", "*/templates/**/*.html", "*/*.py", "*/**/*.py", "static/concord/*.js")
    names: set[str] = set()
    for pattern in patterns:
        for path in base.glob(pattern):
            if ".venv" in path.parts or "tests" in path.parts:
                continue
            names |= set(USAGE.findall(path.read_text(encoding="utf-8")))
    return names


def sprite_path(base: Path | None = None) -> Path:
    return Path(base or settings.BASE_DIR) / "static" / SPRITE


def sprite_icons(base: Path | None = None) -> set[str]:
    return set(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite_path(base).read_text(encoding="utf-8")))
