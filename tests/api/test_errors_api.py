"""Every API error has one shape: {"error": {"code", "message", "fields"?}}, and bad
input is a 400 with field errors, never a 500."""

import pytest

from tests.factories import CustomerFactory

from .helpers import contact_url, customer_url, error_of

pytestmark = pytest.mark.django_db


class TestShape:
    def test_a_validation_error_names_its_fields(self, as_actor):
        response = as_actor("rep").post(customer_url(), {"name": "", "email": "nope"})

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert error["message"] == "Some fields are invalid; see `fields`."
        assert error["fields"] == {"name": ["This field may not be blank."], "email": ["Enter a valid email address."]}

    def test_401(self, api_client):
        response = api_client.get(customer_url())
        assert response.status_code == 401
        assert error_of(response) == {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
        }

    def test_403(self, as_actor, customer):
        response = as_actor("clerk").patch(customer_url(customer), {"name": "X"})
        assert response.status_code == 403
        assert error_of(response) == {"code": "permission_denied", "message": "You may not change: name."}

    def test_404(self, as_actor):
        response = as_actor("rep").get(customer_url(123456))
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Not found."}

    def test_404_for_an_id_that_is_not_a_number(self, as_actor):
        response = as_actor("rep").get("/api/v1/customers/abc/")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_404_for_an_unknown_api_path(self, as_actor):
        response = as_actor("rep").get("/api/v1/nothing-here/")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_a_body_that_is_not_json_is_a_400(self, as_actor):
        response = as_actor("rep").post(customer_url(), data='{"name": "Initech",', content_type="application/json")
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "parse_error"
        assert error["message"].startswith("JSON parse error")

    def test_a_body_that_is_not_an_object_is_a_400(self, as_actor):
        response = as_actor("rep").post(customer_url(), data="[1, 2]", content_type="application/json")
        assert response.status_code == 400
        assert error_of(response)["code"] == "validation_error"

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("text/plain", "name=Initech"),
            # The API takes JSON only: one body type per operation in the schema.
            ("application/x-www-form-urlencoded", "name=Initech"),
            (
                "multipart/form-data; boundary=XX",
                '--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nX\r\n--XX--',
            ),
        ],
    )
    def test_a_body_that_is_not_json_is_a_415(self, as_actor, content_type, body):
        response = as_actor("rep").post(customer_url(), data=body, content_type=content_type)
        assert response.status_code == 415
        assert error_of(response) == {
            "code": "unsupported_media_type",
            "message": f'Unsupported media type "{content_type}" in request.',
        }

    @pytest.mark.parametrize("accept", ["text/csv", "application/xml", "text/html"])
    def test_an_unacceptable_accept_header_is_a_406_in_json(self, as_actor, settings, accept):
        response = as_actor("rep").get(customer_url(), HTTP_ACCEPT=accept)

        if accept == "text/html" and browsable_api_is_on():
            assert response.status_code == 200  # DEBUG on: the browsable API
            return
        assert response.status_code == 406
        assert response["Content-Type"] == "application/json"
        assert error_of(response) == {
            "code": "not_acceptable",
            "message": "Could not satisfy the request Accept header.",
        }

    def test_an_unacceptable_accept_header_is_a_406_even_before_signing_in(self, api_client):
        response = api_client.get(customer_url(), HTTP_ACCEPT="text/csv")
        assert response.status_code == 406
        assert error_of(response)["code"] == "not_acceptable"

    def test_a_method_that_does_not_exist_is_a_405(self, as_actor):
        response = as_actor("rep").put(customer_url(), {"name": "X"})
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"


def browsable_api_is_on() -> bool:
    from rest_framework.settings import api_settings

    return any(r.__name__ == "BrowsableAPIRenderer" for r in api_settings.DEFAULT_RENDERER_CLASSES)


def nested(depth: int) -> str:
    """A JSON object `depth` levels deep: {"name": "Initech", "x": {"x": {...}}}."""
    return '{"name": "Initech", "x": ' + '{"x": ' * (depth - 2) + "{}" + "}" * (depth - 2) + "}"


class TestHostileBodies:
    @pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
    def test_a_body_nested_beyond_the_interpreter_is_a_400(self, as_actor, body):
        response = as_actor("rep").post(customer_url(), data=body, content_type="application/json")

        assert response.status_code == 400
        assert error_of(response) == {
            "code": "parse_error",
            "message": "JSON parse error - nested deeper than 32 levels.",
        }

    def test_a_body_nested_33_levels_is_a_400(self, as_actor):
        response = as_actor("rep").post(customer_url(), data=nested(33), content_type="application/json")
        assert response.status_code == 400
        assert error_of(response)["message"] == "JSON parse error - nested deeper than 32 levels."

    def test_a_body_nested_32_levels_is_read(self, as_actor):
        response = as_actor("rep").post(customer_url(), data=nested(32), content_type="application/json")
        assert response.status_code == 201, response.json()

    def test_arrays_count_as_levels_too(self, as_actor):
        body = '{"name": "Initech", "x": ' + "[" * 40 + "]" * 40 + "}"
        response = as_actor("rep").post(customer_url(), data=body, content_type="application/json")
        assert response.status_code == 400


class TestJSONTypes:
    """A body field takes the JSON type the schema names: DRF would read 0 as false,
    5 as "5" and 12.5 as a decimal, which a schema-driven client could never rely on."""

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("name", 5, "Not a valid string."),
            ("email", ["ap@initech.example"], "Not a valid string."),
            ("tax_id", 1.5, "Not a valid string."),
            ("credit_limit", 1250, 'Send amounts as a decimal string, e.g. "1250.00".'),
            ("credit_limit", 12.5, 'Send amounts as a decimal string, e.g. "1250.00".'),
        ],
    )
    def test_a_customer_field_of_the_wrong_json_type(self, as_actor, field, value, message):
        response = as_actor("finance_manager").post(customer_url(), {"name": "Initech", field: value})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {field: [message]}

    def test_max_length_counts_the_string_as_sent_not_as_trimmed(self, as_actor):
        # The schema says maxLength 200; DRF would trim the control character and accept
        # it (found by schemathesis: "\x1d" + 200 characters created a customer).
        response = as_actor("rep").post(customer_url(), {"name": "\x1d" + "*" * 200})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"name": ["Ensure this field has no more than 200 characters."]}
        response = as_actor("rep").post(customer_url(), {"name": " " + "*" * 199})
        assert response.status_code == 201, response.json()

    @pytest.mark.parametrize("value", [0, 1, "true", "yes"])
    def test_a_boolean_must_be_true_or_false(self, as_actor, customer, value):
        response = as_actor("rep").post(contact_url(), {"customer": customer.pk, "name": "Jo", "is_primary": value})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"is_primary": ["Must be true or false."]}

    def test_null_where_null_is_allowed_and_right_types_pass(self, as_actor, customer, rep):
        response = as_actor("finance_manager").post(
            customer_url(), {"name": "Initech", "owner": rep.pk, "credit_limit": None, "email": "ap@initech.example"}
        )
        assert response.status_code == 201, response.json()
        response = as_actor("rep").post(
            contact_url(), {"customer": customer.pk, "name": "Jo", "phone": "+1", "is_primary": False}
        )
        assert response.status_code == 201, response.json()


class TestCustomerFieldErrors:
    def test_a_duplicate_tax_id_is_refused_on_its_field(self, as_actor):
        CustomerFactory(tax_id="DE123456789")

        response = as_actor("rep").post(customer_url(), {"name": "Copycat", "tax_id": "de 123 456 789"})

        assert response.status_code == 400
        assert error_of(response)["fields"] == {"tax_id": ["A customer with this tax ID already exists."]}

    def test_changing_to_a_duplicate_tax_id_is_refused_too(self, as_actor, customer):
        CustomerFactory(tax_id="DE123456789")
        response = as_actor("clerk").patch(customer_url(customer), {"tax_id": "DE123456789"})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"tax_id": ["A customer with this tax ID already exists."]}

    def test_keeping_its_own_tax_id_is_no_duplicate(self, as_actor, customer):
        response = as_actor("clerk").patch(customer_url(customer), {"tax_id": customer.tax_id.lower()})
        assert response.status_code == 200, response.json()

    def test_an_invalid_email(self, as_actor):
        response = as_actor("rep").post(customer_url(), {"name": "Initech", "email": "ap at initech"})
        assert error_of(response)["fields"] == {"email": ["Enter a valid email address."]}

    def test_a_negative_credit_limit(self, as_actor):
        response = as_actor("finance_manager").post(customer_url(), {"name": "Initech", "credit_limit": "-1.00"})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"credit_limit": ["Ensure this value is greater than or equal to 0."]}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("12.345", "Ensure that there are no more than 2 decimal places."),
            ("1000000000000", "Ensure that there are no more than 12 digits before the decimal point."),
            ("lots", "A valid number is required."),
        ],
    )
    def test_a_credit_limit_that_is_not_money(self, as_actor, value, message):
        response = as_actor("finance_manager").post(customer_url(), {"name": "Initech", "credit_limit": value})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"credit_limit": [message]}

    @pytest.mark.parametrize("currency", ["euro", "eur", "E1R", ""])
    def test_a_bad_currency(self, as_actor, currency):
        response = as_actor("rep").post(customer_url(), {"name": "Initech", "currency": currency})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["currency"]

    def test_a_bad_country_and_terms(self, as_actor):
        response = as_actor("rep").post(
            customer_url(), {"name": "Initech", "country": "Germany", "payment_terms": "net60", "payment_days": -1}
        )
        assert response.status_code == 400
        assert set(error_of(response)["fields"]) == {"country", "payment_terms", "payment_days"}

    @pytest.mark.parametrize("currency", ["XYZ", "DEM", "Eur"])
    def test_a_currency_that_is_not_in_use_is_a_field_error(self, as_actor, currency):
        response = as_actor("rep").post(customer_url(), {"name": "Initech", "currency": currency})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["currency"]

    @pytest.mark.parametrize("country", ["XX", "de", "DEU"])
    def test_an_unknown_country_code_is_a_field_error(self, as_actor, country):
        response = as_actor("rep").post(customer_url(), {"name": "Initech", "country": country})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["country"]

    def test_an_owner_who_is_not_in_sales(self, as_actor, clerk):
        response = as_actor("sales_manager").post(customer_url(), {"name": "Initech", "owner": clerk.pk})
        assert error_of(response)["fields"] == {"owner": ["The owner must be an active sales rep or sales manager."]}

    def test_an_owner_who_does_not_exist(self, as_actor):
        response = as_actor("sales_manager").post(customer_url(), {"name": "Initech", "owner": 999999})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["owner"]

    def test_a_nul_character_in_a_name(self, as_actor):
        response = as_actor("rep").post(customer_url(), {"name": "Ini\x00tech"})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["name"]
