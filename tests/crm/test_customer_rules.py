"""The customer master record: terms, tax ids, and who may change what."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from crm.models import Customer, PaymentTerms, normalize_tax_id
from crm.services import create_customer, update_customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


class TestPaymentTerms:
    @pytest.mark.parametrize(
        ("terms", "days", "issued", "due"),
        [
            (PaymentTerms.NET, 30, date(2026, 1, 15), date(2026, 2, 14)),
            (PaymentTerms.NET, 0, date(2026, 1, 15), date(2026, 1, 15)),
            (PaymentTerms.END_OF_MONTH, 0, date(2026, 2, 3), date(2026, 2, 28)),
            (PaymentTerms.END_OF_MONTH, 15, date(2028, 2, 3), date(2028, 3, 15)),  # leap year
            (PaymentTerms.END_OF_MONTH, 30, date(2026, 12, 31), date(2027, 1, 30)),
        ],
    )
    def test_due_date_follows_the_terms(self, terms, days, issued, due):
        assert Customer(payment_terms=terms, payment_days=days).due_date(issued) == due

    def test_terms_read_as_people_say_them(self):
        assert Customer(payment_terms=PaymentTerms.NET, payment_days=30).terms_label == "Net 30"
        assert Customer(payment_terms=PaymentTerms.NET, payment_days=0).terms_label == "Due on receipt"
        assert Customer(payment_terms=PaymentTerms.END_OF_MONTH, payment_days=15).terms_label == "End of month + 15"


class TestTaxId:
    def test_spaces_and_case_do_not_make_a_different_tax_id(self):
        assert normalize_tax_id(" de 123.456-789 ") == "DE123456789"

    def test_a_duplicate_tax_id_is_refused_on_its_field(self, rep):
        CustomerFactory(tax_id="DE123456789")
        with pytest.raises(ValidationError) as caught:
            create_customer(by=rep, data={"name": "Copycat AG", "tax_id": "de 123456789"})
        assert caught.value.message_dict == {"tax_id": ["A customer with this tax ID already exists."]}
        assert not Customer.objects.filter(name="Copycat AG").exists()

    def test_many_customers_may_have_no_tax_id(self, rep):
        create_customer(by=rep, data={"name": "One", "tax_id": ""})
        create_customer(by=rep, data={"name": "Two", "tax_id": ""})
        assert Customer.objects.filter(tax_id="").count() == 2

    def test_the_database_refuses_a_duplicate_too(self):
        CustomerFactory(tax_id="DE1")
        with pytest.raises(IntegrityError):
            CustomerFactory(tax_id="DE1")

    @pytest.mark.parametrize("raw", ["de1", "DE 1", "DE-1", "DE.1", "DE/1", "DE\t1"])
    def test_the_database_refuses_a_tax_id_that_is_not_normalised(self, raw):
        """A writer that skips the model's validation cannot store `de 1` next to `DE1`."""
        with pytest.raises(IntegrityError):
            CustomerFactory(tax_id=raw)

    def test_the_model_normalises_when_it_is_validated(self, rep):
        customer = Customer(name="Initech", owner=rep, tax_id=" de 123.456-789 ")
        customer.full_clean()
        assert customer.tax_id == "DE123456789"

    def test_a_duplicate_found_only_by_the_database_is_still_a_field_error(self, rep, monkeypatch):
        """The service learns of a duplicate from the database (as when two requests
        race) and reports it on the field by asking again, not by reading the message."""
        CustomerFactory(tax_id="DE42")
        monkeypatch.setattr(IntegrityError, "__str__", lambda self: "something unrelated")
        with pytest.raises(ValidationError) as caught:
            create_customer(by=rep, data={"name": "Copycat AG", "tax_id": "de 42"})
        assert caught.value.message_dict == {"tax_id": ["A customer with this tax ID already exists."]}

    def test_a_sales_manager_may_keep_an_unchanged_tax_id_written_differently(self, sales_manager):
        customer = CustomerFactory(tax_id="DE42")
        update_customer(customer=customer, by=sales_manager, data={"tax_id": "de 42", "name": "Renamed"})
        customer.refresh_from_db()
        assert (customer.tax_id, customer.name) == ("DE42", "Renamed")


class TestCreateCustomer:
    def test_a_rep_becomes_owner_of_what_they_create(self, rep):
        customer = create_customer(by=rep, data={"name": "Globex", "payment_days": 14})
        assert customer.owner == rep
        assert customer.currency == "EUR"
        assert customer.terms_label == "Net 14"

    def test_a_rep_cannot_give_a_customer_to_someone_else(self, rep, other_rep):
        with pytest.raises(PermissionDenied):
            create_customer(by=rep, data={"name": "Globex", "owner": other_rep})

    def test_a_sales_manager_may_name_the_owner(self, sales_manager, rep):
        assert create_customer(by=sales_manager, data={"name": "Globex", "owner": rep}).owner == rep

    def test_a_rep_cannot_set_a_credit_limit(self, rep):
        with pytest.raises(PermissionDenied, match="credit limit"):
            create_customer(by=rep, data={"name": "Globex", "credit_limit": Decimal("5000")})

    def test_a_clerk_cannot_create_customers(self, clerk):
        with pytest.raises(PermissionDenied):
            create_customer(by=clerk, data={"name": "Globex"})

    def test_bad_values_are_reported_per_field_and_nothing_is_saved(self, finance_manager, rep):
        with pytest.raises(ValidationError) as caught:
            create_customer(
                by=finance_manager,
                data={
                    "owner": rep,
                    "name": "",
                    "email": "not-an-email",
                    "currency": "euro",
                    "country": "Germany",
                    "credit_limit": Decimal("-1"),
                },
            )
        assert set(caught.value.message_dict) == {"name", "email", "currency", "country", "credit_limit"}
        assert Customer.objects.count() == 0


class TestWhoMayChangeWhat:
    """Beyond the role-by-action table (test_permission_matrix.py): what counts as a change."""

    def test_a_rep_edits_their_own_customer(self, rep, customer):
        update_customer(customer=customer, by=rep, data={"name": "Acme AG", "payment_days": 45})
        customer.refresh_from_db()
        assert (customer.name, customer.payment_days) == ("Acme AG", 45)

    def test_a_clerk_edits_billing_details_but_not_the_name(self, clerk, customer):
        update_customer(
            customer=customer, by=clerk, data={"payment_terms": PaymentTerms.END_OF_MONTH, "tax_id": "FR999"}
        )
        customer.refresh_from_db()
        assert customer.payment_terms == PaymentTerms.END_OF_MONTH
        with pytest.raises(PermissionDenied, match="name"):
            update_customer(customer=customer, by=clerk, data={"name": "Renamed"})

    def test_sending_back_an_unchanged_credit_limit_is_not_a_change(self, clerk, customer):
        update_customer(customer=customer, by=clerk, data={"credit_limit": Decimal("10000.00"), "city": "Hamburg"})
        customer.refresh_from_db()
        assert customer.city == "Hamburg"

    def test_an_empty_credit_limit_means_no_limit(self, finance_manager, customer):
        update_customer(customer=customer, by=finance_manager, data={"credit_limit": None})
        customer.refresh_from_db()
        assert customer.credit_limit is None

    def test_visible_to_every_role_and_to_nobody_else(self, actors, customer):
        for name, user in actors.items():
            expected = [] if name == "outsider" else [customer]
            assert list(Customer.objects.visible_to(user)) == expected, name


class TestOwner:
    @pytest.mark.parametrize("actor", ["finance_manager", "admin"])
    def test_someone_outside_sales_must_name_the_sales_owner(self, actors, actor):
        with pytest.raises(ValidationError) as caught:
            create_customer(by=actors[actor], data={"name": "Globex"})
        assert caught.value.message_dict == {"owner": ["Choose the sales rep who owns this customer."]}
        assert not Customer.objects.exists()

    def test_a_sales_manager_owns_what_they_create_without_naming_anyone(self, sales_manager):
        assert create_customer(by=sales_manager, data={"name": "Globex"}).owner == sales_manager

    def test_the_owner_must_be_an_active_sales_user(self, sales_manager, clerk, customer):
        with pytest.raises(ValidationError) as caught:
            update_customer(customer=customer, by=sales_manager, data={"owner": clerk})
        assert "owner" in caught.value.message_dict
        customer.refresh_from_db()
        assert customer.owner != clerk
