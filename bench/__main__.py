"""`python -m bench`: see bench/__init__.py and `python -m bench --help`."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    import django

    django.setup()
    from bench.runner import main as run

    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
