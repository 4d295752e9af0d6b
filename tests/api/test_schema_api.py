"""The OpenAPI schema documents the API, and the API keeps to it: fuzzed from its
own schema, no request answers 500."""

import json
import os
import re
import subprocess
import sys

import pytest
import schemathesis
import yaml
from django.conf import settings as django_settings
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from accounts.services import create_api_token
from config.wsgi import application
from crm.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/customers/", "get"),
    ("/api/v1/customers/", "post"),
    ("/api/v1/customers/{id}/", "get"),
    ("/api/v1/customers/{id}/", "put"),
    ("/api/v1/customers/{id}/", "patch"),
    ("/api/v1/customers/{id}/", "delete"),
    ("/api/v1/contacts/", "get"),
    ("/api/v1/contacts/", "post"),
    ("/api/v1/contacts/{id}/", "get"),
    ("/api/v1/contacts/{id}/", "put"),
    ("/api/v1/contacts/{id}/", "patch"),
    ("/api/v1/contacts/{id}/", "delete"),
}


def test_the_schema_endpoint_serves_openapi_3(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    documented = {(path, method) for path, operations in schema["paths"].items() for method in operations}
    assert documented >= OPERATIONS


def test_the_schema_documents_the_error_shape_on_every_operation(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)

    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, method in OPERATIONS:
        responses = schema["paths"][path][method]["responses"]
        for code in ("401", "403"):
            assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def api_schema(api_client) -> dict:
    return yaml.safe_load(api_client.get("/api/schema/").content)


def responses_of(api_schema, path, method) -> dict:
    return api_schema["paths"][path][method]["responses"]


ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_every_operation_documents_406_and_429_with_retry_after(api_schema, path, method):
    responses = responses_of(api_schema, path, method)
    for code in ("401", "403", "406", "429"):
        assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF, code
    assert responses["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


@pytest.mark.parametrize(("path", "method"), sorted(op for op in OPERATIONS if op[1] in ("post", "put", "patch")))
def test_every_write_takes_json_only_and_documents_415(api_schema, path, method):
    operation = api_schema["paths"][path][method]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    assert operation["responses"]["415"]["content"]["application/json"]["schema"] == ERROR_REF


def test_every_operation_that_takes_if_match_documents_its_412(api_schema):
    """A stale (or empty) If-Match is answered 412: the fuzzer holds the schema to it."""
    takes_if_match = [
        (path, method)
        for path, operations in api_schema["paths"].items()
        for method, operation in operations.items()
        if any(parameter.get("name") == "If-Match" for parameter in operation.get("parameters", []))
    ]
    assert ("/api/v1/leads/{id}/convert/", "post") in takes_if_match
    assert [
        (path, method) for path, method in takes_if_match if "412" not in responses_of(api_schema, path, method)
    ] == []


@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/contacts/"])
def test_a_bad_cursor_is_documented_as_a_400_not_a_404(api_schema, path):
    responses = responses_of(api_schema, path, "get")
    assert "invalid_cursor" in responses["400"]["description"]
    assert "404" not in responses


@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/contacts/"])
def test_page_size_and_ordering_are_bounded_as_the_server_bounds_them(api_schema, path):
    parameters = {p["name"]: p for p in api_schema["paths"][path]["get"]["parameters"]}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert "name" in parameters["ordering"]["schema"]["items"]["enum"]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("0", True),
        ("12.34", True),
        ("999999999999.99", True),
        ("5.", True),
        (".5", True),
        ("", True),  # null
        ("-1.00", False),  # the server refuses negatives
        (".", False),
        ("12.345", False),
        ("1000000000000", False),
        ("lots", False),
    ],
)
def test_the_credit_limit_pattern_accepts_what_the_server_accepts(api_schema, as_actor, rep, value, accepted):
    pattern = api_schema["components"]["schemas"]["CustomerRequest"]["properties"]["credit_limit"]["pattern"]
    assert bool(re.search(pattern, value)) is accepted

    response = as_actor("finance_manager").post(
        "/api/v1/customers/", {"name": "Initech", "owner": rep.pk, "credit_limit": value}
    )
    assert response.status_code == (201 if accepted else 400), response.json()


def test_filters_carry_their_bounds(api_schema):
    parameters = {p["name"]: p for p in api_schema["paths"]["/api/v1/contacts/"]["get"]["parameters"]}
    assert parameters["customer"]["schema"]["minimum"] == 1
    assert parameters["customer"]["schema"]["maximum"] == 2**63 - 1
    assert parameters["is_primary"]["schema"] == {"type": "boolean"}


def test_string_fields_carry_their_maximum_length(api_schema):
    properties = api_schema["components"]["schemas"]["CustomerRequest"]["properties"]
    assert properties["name"]["maxLength"] == 200
    assert properties["tax_id"]["maxLength"] == 40
    assert properties["payment_days"]["minimum"] == 0


def test_money_is_a_decimal_string_in_the_schema(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    credit_limit = schema["components"]["schemas"]["Customer"]["properties"]["credit_limit"]
    assert (credit_limit["type"], credit_limit["format"], credit_limit["nullable"]) == ("string", "decimal", True)


def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns every drf-spectacular warning (an unresolvable field,
    # an unknown authentication class) into a failure.
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"), "--validate", "--fail-on-warn")
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_are_served_without_signing_in(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"/static/drf_spectacular_sidecar/" in response.content  # served locally, no CDN


def csp_of(response) -> dict[str, set[str]]:
    directives = (part.split() for part in response.headers["Content-Security-Policy"].split(";") if part.strip())
    return {name: set(values) for name, *values in directives}


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_may_use_inline_styles_but_only_our_scripts(client, path):
    """Redoc renders nothing without inline styles (see core.api.docs)."""
    policy = csp_of(client.get(path))
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'", "'unsafe-inline'"}


def test_other_pages_keep_the_strict_policy(client):
    assert csp_of(client.get("/api/schema/"))["style-src"] == {"'self'"}


@pytest.fixture
def wsgi_requests_keep_the_test_connection():
    """Each in-process WSGI call fires request_started/finished, whose
    close_old_connections would close the test transaction's connection on
    PostgreSQL; the test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def some_customers(rep):
    """A few customers and contacts, so generated ids sometimes hit real rows."""
    for customer in CustomerFactory.create_batch(3, owner=rep):
        ContactFactory(customer=customer, is_primary=True)


@pytest.fixture
def finance_manager_token(finance_manager):
    _, key = create_api_token(user=finance_manager, name="fuzz", scope="write")
    return key


def point_at_real_rows(case, rep):
    """Generated ids almost never exist, so most requests would end in a 404 before
    reaching a service. Send four in five to real customers and contacts (and name
    a real rep as owner), keeping the rest as generated."""
    path_id = (case.path_parameters or {}).get("id")
    if isinstance(path_id, int) and path_id % 5:
        model = Customer if "/customers/" in case.path else Contact
        pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
        if pks:
            case.path_parameters["id"] = pks[path_id % len(pks)]
    if isinstance(case.body, dict):
        if isinstance(case.body.get("customer"), int) and case.body["customer"] % 5:
            pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
            case.body["customer"] = pks[case.body["customer"] % len(pks)]
        if isinstance(case.body.get("owner"), int) and case.body["owner"] % 5:
            case.body["owner"] = rep.pk


# Loaded in-process at import: the schema view needs no database. The coverage
# phase (hundreds of boundary cases per operation) is left to the CLI run; here
# examples and fuzzing keep the whole test well under a minute.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    application,
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}),
)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_makes_the_api_fail(
    case, wsgi_requests_keep_the_test_connection, some_customers, rep, finance_manager_token
):
    point_at_real_rows(case, rep)
    response = case.call(headers={"Authorization": f"Token {finance_manager_token}"})
    case.validate_response(response, checks=[not_a_server_error])


def test_with_debug_off_the_docs_and_schema_are_served_and_browsers_get_406():
    """The browsable API is off with DEBUG off; its renderers are read when the views
    are defined, so this runs in a fresh process with production settings."""
    code = (
        "import django, json; django.setup(); from django.test import Client; c = Client(); "
        "print(json.dumps([c.get(p, secure=True, HTTP_ACCEPT=a).status_code for p, a in ["
        "('/api/docs/', 'text/html'), ('/api/redoc/', 'text/html'), ('/api/schema/', '*/*'), "
        "('/api/v1/customers/', 'text/html,application/xhtml+xml')]]))"
    )
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "testserver",
        "STATIC_MANIFEST": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, 200, 200, 406]
