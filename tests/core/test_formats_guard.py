"""Every page shows dates, times and numbers through core.formats, so each reads in
its user's format. Django's own date and number filters format in the server's
language instead: a template using them fails here, so the next app inherits the rule."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("accounts", "billing", "collaboration", "core", "crm", "dashboards", "receivables", "demo")

# {{ x|date:"…" }}, |time, humanize's naturaltime/naturalday/intcomma/intword,
# floatformat and timesince/timeuntil: each bypasses the user's format.
BYPASSING_FILTER = re.compile(
    r"\|\s*(date|time|naturaltime|naturalday|intcomma|intword|floatformat|timesince|timeuntil)\b"
)
BYPASSING_PYTHON = re.compile(
    r"django\.utils\.(dateformat|numberformat)|django\.contrib\.humanize|\bget_format\(|\bstrftime\(|\.localize\("
)
USE_INSTEAD = "use {% load concord %}: |local_date, |local_datetime, |local_time, |relative, |number, |amount, |money"


def templates():
    folders = [ROOT / "templates", *(ROOT / app / "templates" for app in APPS)]
    for folder in folders:
        yield from (path for path in folder.rglob("*") if path.suffix in (".html", ".txt") and path.is_file())


def test_the_guard_sees_the_templates():
    names = {path.relative_to(ROOT).as_posix() for path in templates()}
    assert {"templates/crm/customer_list.html", "templates/dashboards/home.html"} <= names


def test_the_guard_catches_each_bypassing_filter():
    for text in (
        '{{ d|date:"DATE_FORMAT" }}',
        "{{ d | time }}",
        "{{ d|naturaltime }}",
        "{{ n|intcomma }}",
        "{{ x|floatformat:2 }}",
    ):
        assert BYPASSING_FILTER.search(text), text
    for text in ("{{ d|local_date }}", "{{ d|local_datetime }}", "{{ n|number }}", "{{ updated|relative }}"):
        assert not BYPASSING_FILTER.search(text), text


def test_no_template_formats_dates_or_numbers_past_the_users_format():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BYPASSING_FILTER.search(line)
    ]
    assert not found, USE_INSTEAD + "\n" + "\n".join(found)


def test_no_python_code_formats_dates_or_numbers_past_the_users_format():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path != ROOT / "core" / "formats.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BYPASSING_PYTHON.search(line)
    ]
    assert not found, "format with core.formats (format_date, format_datetime, format_number)\n" + "\n".join(found)
