"""A client generated from the schema with openapi-python-client (what many
integrators do first) imports and works: it lists customers, follows a page cursor,
creates and changes a customer, and reads a 400 into its error model."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from accounts.services import create_api_token
from tests.factories import CustomerFactory

PACKAGE = "concord_client"
GENERATOR = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or shutil.which(
    "openapi-python-client"
)


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory):
    """The package openapi-python-client generates from the schema, imported."""
    if GENERATOR is None:
        pytest.fail("openapi-python-client is not installed: it is in the dev dependencies (make setup)")
    root = tmp_path_factory.mktemp("generated")
    schema = root / "schema.yml"
    call_command("spectacular", "--file", str(schema), "--validate", "--fail-on-warn")
    config = root / "config.yml"
    # No post-hooks: the generator would run ruff over the code, which the test does not need.
    # PDFs (GET /quotes/{id}/pdf/, later invoices) are files to the generator: it knows
    # application/octet-stream, not application/pdf, as integrators tell it the same way.
    config.write_text(
        f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"
        "content_type_overrides:\n  application/pdf: application/octet-stream\n"
    )
    result = subprocess.run(
        [GENERATOR, "generate", "--path", str(schema), "--config", str(config), "--meta", "none"]
        + ["--output-path", str(root / PACKAGE), "--fail-on-warning"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_a_generated_client_lists_pages_creates_patches_and_reads_errors(
    django_db_serialized_rollback, transactional_db, live_server, generated_client, rep
):
    from concord_client import AuthenticatedClient
    from concord_client.api.customers import (
        customers_create,
        customers_list,
        customers_partial_update,
        customers_retrieve,
    )
    from concord_client.models import (
        Customer,
        CustomerDetail,
        CustomerRequest,
        Error,
        PaginatedCustomerList,
        PatchedCustomerDetailRequest,
    )

    existing = CustomerFactory.create_batch(3, owner=rep, tax_id="")
    _, key = create_api_token(user=rep, name="generated client", scope="write")
    client = AuthenticatedClient(base_url=live_server.url, token=key, prefix="Token", raise_on_unexpected_status=True)

    with client:
        first = customers_list.sync_detailed(client=client, page_size=2)
        assert first.status_code == 200
        assert isinstance(first.parsed, PaginatedCustomerList)
        assert len(first.parsed.results) == 2 and first.parsed.next_

        second = customers_list.sync(client=client, page_size=2, cursor=cursor_of(first.parsed.next_))
        seen = [c.id for c in first.parsed.results] + [c.id for c in second.results]
        assert sorted(seen) == sorted(c.pk for c in existing)

        created = customers_create.sync_detailed(
            client=client, body=CustomerRequest(name="Initech", tax_id="DE 111 222 333")
        )
        assert created.status_code == 201
        assert isinstance(created.parsed, Customer)
        assert (created.parsed.name, created.parsed.tax_id, created.parsed.owner) == ("Initech", "DE111222333", rep.pk)

        fetched = customers_retrieve.sync_detailed(id=created.parsed.id, client=client)
        assert isinstance(fetched.parsed, CustomerDetail)
        patched = customers_partial_update.sync(
            id=created.parsed.id,
            client=client,
            body=PatchedCustomerDetailRequest(city="Berlin"),
            if_match=fetched.headers["ETag"],
        )
        assert isinstance(patched, CustomerDetail)
        assert (patched.id, patched.city) == (created.parsed.id, "Berlin")

        refused = customers_create.sync_detailed(
            client=client, body=CustomerRequest(name="Copycat", tax_id="de111222333")
        )
        assert refused.status_code == 400
        assert isinstance(refused.parsed, Error)
        assert refused.parsed.error.code == "validation_error"
        assert refused.parsed.error.fields.additional_properties == {
            "tax_id": ["A customer with this tax ID already exists."]
        }
