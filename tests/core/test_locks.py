"""Every dependency is pinned, with hashes, in the lock files `make setup`, CI and the
Docker image install from (`make lock` regenerates them from pyproject.toml)."""

import re
import tomllib
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BASE = Path(settings.BASE_DIR)


def pinned(lock: str) -> dict[str, str]:
    text = (BASE / lock).read_text()
    assert "--hash=sha256:" in text
    return {canonicalize_name(name): version for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}


def declared(*groups: str) -> set[str]:
    project = tomllib.loads((BASE / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_the_runtime_lock_pins_every_runtime_dependency():
    assert declared() <= set(pinned("requirements.lock"))


def test_the_dev_lock_pins_everything_at_the_runtime_locks_versions():
    runtime, dev = pinned("requirements.lock"), pinned("requirements-dev.lock")
    assert declared("dev") <= set(dev)
    assert {name: dev[name] for name in runtime} == runtime
