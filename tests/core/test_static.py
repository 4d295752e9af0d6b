"""Static files: only what pages use is collected, and tests never index a collected STATIC_ROOT."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

import config.settings
from core.icons import icon, sprite_icons, used_icons

BASE = Path(settings.BASE_DIR)


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


def test_every_icon_the_code_uses_is_in_the_sprite():
    used = used_icons()
    assert "house" in used  # the scan finds the navigation's icons
    missing = used - sprite_icons()
    assert not missing, f"run `manage.py build_icons --source <Font Awesome svgs/solid>`: {sorted(missing)} are missing"


def test_no_page_uses_the_old_icon_font():
    sources = [*BASE.glob("templates/**/*.html"), *BASE.glob("*/templates/**/*.html"), *BASE.glob("*/*.py")]
    offenders = [str(p) for p in sources if ".venv" not in p.parts and "fa-solid" in p.read_text(encoding="utf-8")]
    assert not offenders, 'use {% icon "name" %} (core.icons): ' + ", ".join(offenders)


def test_icon_markup_hides_decoration_and_names_meaningful_icons():
    assert 'aria-hidden="true"' in icon("house")
    labelled = icon("trash", label="Delete Ada")
    assert 'role="img"' in labelled and 'aria-label="Delete Ada"' in labelled and "aria-hidden" not in labelled


def test_only_what_pages_use_is_collected():
    assert "fontawesomefree" not in settings.INSTALLED_APPS
    files = [path for finder in finders.get_finders() for path, _ in finder.list(["CVS", ".*", "*~"])]
    assert len(files) < 400, f"{len(files)} static files would be collected"
