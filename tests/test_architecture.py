"""The import order of DESIGN.md, checked on the source: `core` at the bottom,
`config` imported by no app, and no app importing one above it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each app may import the apps listed before it (collaboration: only core and accounts).
LAYERS = ["core", "accounts", "crm", "billing", "receivables", "dashboards"]
ALLOWED = {app: set(LAYERS[:index]) for index, app in enumerate(LAYERS)}
ALLOWED["collaboration"] = {"core", "accounts"}
for app in ("crm", "billing", "receivables", "dashboards"):
    ALLOWED[app].add("collaboration")
CONCORD = {*ALLOWED, "config", "demo", "bench"}


def concord_imports(app: str) -> dict[str, set[str]]:
    """{module path: Concord packages it imports} for every module of `app`."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = (names & CONCORD) - {app}
    return found


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_an_app_imports_only_the_apps_below_it(app):
    wrong = {
        module: sorted(imported - ALLOWED[app])
        for module, imported in concord_imports(app).items()
        if imported - ALLOWED[app]
    }
    assert wrong == {}, f"{app} may import only {sorted(ALLOWED[app])}"


def test_core_imports_no_concord_app():
    assert {module: names for module, names in concord_imports("core").items() if names} == {}


def test_config_holds_only_wiring():
    modules = {path.name for path in (ROOT / "config").glob("*.py")}
    assert modules <= {"__init__.py", "settings.py", "urls.py", "api_router.py", "wsgi.py", "asgi.py", "celery.py"}


# Models whose rows must change through save() (their services do): the aging's fast path
# reads an invoice's balance_due only when `updated_at` says it did not change since the
# day asked for, and the list summaries are cached until a post_save/post_delete signal
# (core.cache.track_changes). QuerySet.update() and bulk_update() skip both.
SAVED_ONLY = {"Invoice", "Payment", "Customer"}


def _bulk_writes_of(tree) -> list[tuple[str, int]]:
    """(model, line) of `Model.objects…update(…)` / `.bulk_update(…)` calls."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("update", "bulk_update"):
            continue
        receiver = node.func.value
        while isinstance(receiver, (ast.Call, ast.Attribute)):
            receiver = receiver.func if isinstance(receiver, ast.Call) else receiver.value
        if isinstance(receiver, ast.Name) and receiver.id in SAVED_ONLY:
            found.append((receiver.id, node.lineno))
    return found


def test_invoices_payments_and_customers_change_only_through_save():
    wrong = {}
    for app in (*LAYERS, "collaboration"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            writes = _bulk_writes_of(ast.parse(path.read_text(), filename=str(path)))
            if writes:
                wrong[str(path.relative_to(ROOT))] = writes
    assert wrong == {}, "these skip updated_at and the cache's change signals: save() the rows instead"


def test_the_bulk_write_check_finds_one():
    tree = ast.parse("Invoice.objects.filter(pk=1).update(status='paid')\nInvoice.objects.bulk_update(rows, ['x'])")
    assert _bulk_writes_of(tree) == [("Invoice", 1), ("Invoice", 2)]
