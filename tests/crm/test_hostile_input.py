"""Input nobody's browser sends: never a 500, refused like its valid twin."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse

from crm.forms import CustomerForm
from crm.models import Customer
from crm.services import create_contact, create_customer, update_contact, update_customer
from tests.api.helpers import contact_url, customer_url, error_of
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BIDI = ["\u202e", "\u202a", "\u202d", "\u2066", "\u2069"]


def edit_form(customer, **changes):
    data = model_to_dict(customer, fields=CustomerForm._meta.fields)
    data.update(changes)
    return {name: "" if value is None else value for name, value in data.items()}


class TestFieldsTheUserMayNotChange:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("owner", "not-a-user"), ("owner", "999999"), ("credit_limit", "lots"), ("credit_limit", "1e999999")],
    )
    def test_the_service_refuses_by_name_before_assigning(self, rep, customer, field, value):
        with pytest.raises(PermissionDenied):
            update_customer(customer=customer, by=rep, data={field: value})
        customer.refresh_from_db()
        assert customer.owner == rep

    @pytest.mark.parametrize(
        ("field", "value"),
        [("owner", "not-a-user"), ("owner", "999999"), ("credit_limit", "lots"), ("credit_limit", "99999")],
    )
    def test_the_edit_page_answers_403_valid_or_not(self, client, rep, customer, field, value):
        client.force_login(rep)
        response = client.post(reverse("crm:customer_edit", args=[customer.pk]), edit_form(customer, **{field: value}))
        assert response.status_code == 403
        customer.refresh_from_db()
        assert (customer.owner, customer.credit_limit) == (rep, Decimal("10000.00"))

    def test_an_unknown_field_name_is_refused(self, sales_manager, customer):
        with pytest.raises(PermissionDenied, match="version"):
            update_customer(customer=customer, by=sales_manager, data={"version": 99})

    def test_a_contact_cannot_be_given_fields_it_does_not_have(self, rep, customer):
        with pytest.raises(ValidationError) as caught:
            create_contact(customer=customer, by=rep, data={"name": "Jane", "customer_id": 1})
        assert set(caught.value.message_dict) == {"customer_id"}


class TestOwnerOfANewCustomer:
    def test_the_form_requires_the_owner_from_someone_outside_sales(self, client, finance_manager):
        client.force_login(finance_manager)
        form = client.get(reverse("crm:customer_create")).context["form"]
        assert form.fields["owner"].required and not form.fields["owner"].disabled

        response = client.post(reverse("crm:customer_create"), {"name": "Globex", "currency": "EUR"})

        assert response.status_code == 200
        assert "owner" in response.context["form"].errors
        assert not Customer.objects.exists()

    def test_the_form_offers_only_sales_users(self, client, finance_manager, rep, clerk):
        client.force_login(finance_manager)
        owners = client.get(reverse("crm:customer_create")).context["form"].fields["owner"].queryset
        assert rep in owners and clerk not in owners and finance_manager not in owners


class TestBidiControlCharacters:
    """Text-direction controls make a name display as something else ("Trojan Source")."""

    @pytest.mark.parametrize("char", BIDI)
    @pytest.mark.parametrize("field", ["name", "legal_name"])
    def test_a_customer_name_is_refused_by_the_service(self, rep, char, field):
        with pytest.raises(ValidationError) as caught:
            create_customer(by=rep, data={"name": "Acme", field: f"Evil{char}gnp.exe"})
        assert "text-direction" in caught.value.message_dict[field][0]
        assert not Customer.objects.exists()

    def test_a_contact_name_is_refused_by_the_service(self, rep, customer):
        with pytest.raises(ValidationError) as caught:
            create_contact(customer=customer, by=rep, data={"name": "Jane\u202eeoD", "phone": "+49 1"})
        assert list(caught.value.message_dict) == ["name"]
        contact = ContactFactory(customer=customer)
        with pytest.raises(ValidationError):
            update_contact(contact=contact, by=rep, data={"name": "\u2066Jane"})

    def test_the_page_shows_it_on_the_field(self, client, rep, customer):
        client.force_login(rep)
        response = client.post(reverse("crm:customer_edit", args=[customer.pk]), edit_form(customer, name="A\u202eB"))
        assert response.status_code == 200
        assert "text-direction" in response.context["form"].errors["name"][0]

    def test_the_api_refuses_it_on_the_field(self, token_client, rep, customer):
        client = token_client(rep)
        response = client.patch(customer_url(customer), {"legal_name": "A\u2067B"}, format="json")
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["legal_name"]
        response = client.post(contact_url(), {"customer": customer.pk, "name": "A\u202bB"}, format="json")
        assert list(error_of(response)["fields"]) == ["name"]

    def test_ordinary_right_to_left_names_are_fine(self, rep):
        assert create_customer(by=rep, data={"name": "شركة الأمل"}).name == "شركة الأمل"
