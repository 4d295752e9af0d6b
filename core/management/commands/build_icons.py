"""Rewrite static/icons/sprite.svg from the icons the code uses (core.icons)."""

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.icons import sprite_path, used_icons

HEADER = (
    "<!-- The icons Concord's pages use: a subset of Font Awesome Free 6 (https://fontawesome.com;"
    " icons CC BY 4.0: LICENSE.txt). Written by `manage.py build_icons`; do not edit by hand. -->"
)


class Command(BaseCommand):
    help = "Write the SVG sprite of the icons used in templates and code (from Font Awesome's svgs/solid)."

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, help="a folder of Font Awesome SVGs (svgs/solid)")

    def handle(self, *args, source, **options):
        folder = Path(source)
        symbols = []
        for name in sorted(used_icons()):
            path = folder / f"{name}.svg"
            if not path.exists():
                raise CommandError(f"No icon {name!r} in {folder}")
            svg = path.read_text(encoding="utf-8")
            view_box = re.search(r'viewBox="([^"]+)"', svg).group(1)
            paths = "".join(re.findall(r"<path [^>]*/>", svg))
            symbols.append(f'<symbol id="{name}" viewBox="{view_box}">{paths}</symbol>')
        body = "\n".join(symbols)
        out = sprite_path()
        out.write_text(f'<svg xmlns="http://www.w3.org/2000/svg">\n{HEADER}\n{body}\n</svg>\n', encoding="utf-8")
        self.stdout.write(f"Wrote {len(symbols)} icons to {out}")
