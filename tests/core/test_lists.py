"""The generic list kit: optional and phone columns of any FastRowsTable, and the
remembered querystring of any list (core.tables, core.lists)."""

from types import SimpleNamespace

import django_tables2 as tables
import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory

from core.lists import list_url, remember_list_query, save_list_columns
from core.tables import HIDDEN_ON_PHONES, FastRowsTable
from tests.html import parse


class InvoiceLikeTable(FastRowsTable):
    """A list the way billing will declare one, over plain dicts."""

    number = tables.Column()
    customer = tables.Column(attrs={"td": {"class": lambda record: "late" if record["late"] else "on-time"}})
    total = tables.Column(attrs={"cell": {"class": "money"}})
    due = tables.Column(verbose_name="Due date")
    notes = tables.Column()

    optional_columns = ("due", "notes")
    phone_columns = ("number", "total")
    columns_key = "billing.invoice"

    class Meta:
        template_name = "core/fast_table.html"


ROWS = [{"number": "INV-1", "customer": "Acme", "total": "10.00", "due": "2026-01-31", "notes": "", "late": True}]


def user(columns):
    return SimpleNamespace(list_columns=columns)


def test_optional_columns_are_left_out_until_chosen():
    assert [c.name for c in InvoiceLikeTable(ROWS).columns] == ["number", "customer", "total"]
    chosen = InvoiceLikeTable(ROWS, chosen_columns=["notes"])
    assert [c.name for c in chosen.columns] == ["number", "customer", "total", "notes"]


@pytest.mark.parametrize(
    ("saved", "chosen"),
    [
        ({"billing.invoice": ["notes", "due"]}, ["due", "notes"]),  # in the table's order
        ({"billing.invoice": ["notes", "customer", "no-such"]}, ["notes"]),  # only optional ones
        ({"billing.invoice": "due"}, []),
        ({"crm.customer": ["due"]}, []),
        ({}, []),
        (None, []),
        (["notes"], []),  # not a mapping at all (set by hand in the admin)
    ],
)
def test_a_saved_choice_keeps_only_the_optional_columns_the_table_has(saved, chosen):
    assert InvoiceLikeTable.chosen_columns(user(saved)) == chosen


def test_the_chooser_labels():
    assert InvoiceLikeTable.optional_column_labels() == [("due", "Due date"), ("notes", "Notes")]


def test_columns_outside_the_phone_set_are_hidden_below_md_keeping_their_own_classes():
    table = InvoiceLikeTable(ROWS, chosen_columns=["notes"])
    (row,) = parse("".join(table.rendered_rows())).find_all(tag="tr")
    hidden = set(HIDDEN_ON_PHONES.split())
    assert [cell.classes for cell in row.find_all(tag="td")] == [set(), {"late", *hidden}, {"money"}, hidden]
    header = {bound.name: set(bound.attrs["th"]["class"].split()) for bound in table.columns}
    assert "money" in header["total"] and not hidden & header["total"]
    assert hidden <= header["notes"] and hidden <= header["customer"]
    # Each table hides on its own copy of the columns: the declaration is unchanged.
    assert "class" not in InvoiceLikeTable.base_columns["notes"].attrs.get("td", {})


def request_with_session(query=""):
    request = RequestFactory().get(f"/customers/?{query}")
    request.session = SessionStore()
    return request


def test_the_remembered_query_leaves_out_exports_and_fragments(settings):
    request = request_with_session("status=active&_part=summary&_export=csv&page=2")
    remember_list_query(request, "crm:customer_list")
    assert list_url(request, "crm:customer_list") == "/customers/?status=active&page=2"


def test_an_overlong_query_is_not_remembered():
    request = request_with_session("status=active")
    remember_list_query(request, "crm:customer_list")
    long = request_with_session("q=" + "x" * 5000)
    long.session = request.session
    remember_list_query(long, "crm:customer_list")
    assert list_url(request, "crm:customer_list") == "/customers/?status=active"


def test_the_session_is_written_only_when_the_query_changed():
    request = request_with_session("status=active")
    remember_list_query(request, "crm:customer_list")
    request.session.modified = False
    remember_list_query(request, "crm:customer_list")
    assert request.session.modified is False


def test_without_a_request_the_plain_list():
    assert list_url(None, "crm:customer_list") == "/customers/"


def test_saving_a_choice_replaces_a_saved_value_that_is_not_a_mapping(rep):
    rep.list_columns = ["notes"]
    rep.save(update_fields=["list_columns"])
    assert save_list_columns(user=rep, table_class=InvoiceLikeTable, columns=["notes"]) == ["notes"]
    rep.refresh_from_db()
    assert rep.list_columns == {"billing.invoice": ["notes"]}
