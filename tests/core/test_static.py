"""Static files: only what pages use is collected, and tests never index a collected STATIC_ROOT."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

import config.settings

BASE = Path(settings.BASE_DIR)
ICONS_CSS = BASE / "static" / "icons" / "icons.css"
# Font Awesome's helper classes, not icons.
HELPERS = {"fa-solid", "fa-fw", "fa-2x"}


def whitenoise_files() -> int:
    return len(WhiteNoiseMiddleware(lambda request: None).files)


def test_tests_run_against_an_empty_static_root(tmp_path):
    assert Path(settings.STATIC_ROOT) != Path(config.settings.STATIC_ROOT)
    assert whitenoise_files() == 0
    # …which matters: a collected root is indexed by every test client's middleware.
    (tmp_path / "css").mkdir()
    for n in range(5):
        (tmp_path / "css" / f"{n}.css").write_text("body{}")
    with override_settings(STATIC_ROOT=str(tmp_path)):
        assert whitenoise_files() == 5


def used_icon_classes() -> set[str]:
    sources = [*BASE.glob("templates/**/*.html"), *BASE.glob("*/templates/**/*.html"), *BASE.glob("*/*.py")]
    used = set()
    for path in sources:
        if ".venv" in path.parts:
            continue
        used |= set(re.findall(r"\bfa-[a-z0-9-]+", path.read_text(encoding="utf-8")))
    return used


def test_every_icon_a_page_uses_is_in_the_icon_subset():
    css = ICONS_CSS.read_text()
    defined = set(re.findall(r"\.(fa-[a-z0-9-]+)::before", css)) | {h for h in HELPERS if f".{h}{{" in css}
    used = used_icon_classes()
    assert "fa-house" in used  # the scan finds the navigation's icons
    assert used <= defined, f"add these icons to {ICONS_CSS.relative_to(BASE)}: {sorted(used - defined)}"


def test_only_what_pages_use_is_collected():
    assert "fontawesomefree" not in settings.INSTALLED_APPS
    files = [path for finder in finders.get_finders() for path, _ in finder.list(["CVS", ".*", "*~"])]
    assert len(files) < 400, f"{len(files)} static files would be collected"
