"""The admin writes customers and contacts through crm.services, like every page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import SALES_MANAGER
from crm.models import Contact, Customer
from crm.services import update_customer
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:crm_customer_add")


def change_url(customer):
    return reverse("admin:crm_customer_change", args=[customer.pk])


def admin_form(owner, contacts=(), initial_contacts=0, **changes):
    """What the admin's customer form posts: every field, plus the contacts inline."""
    data = {
        "name": "Globex Corporation",
        "email": "ap@globex.example",
        "phone": "",
        "owner": owner.pk,
        "status": "active",
        "legal_name": "",
        "tax_id": "",
        "address_line1": "",
        "address_line2": "",
        "postal_code": "",
        "city": "",
        "region": "",
        "country": "",
        "currency": "EUR",
        "payment_terms": "net",
        "payment_days": "30",
        "credit_limit": "",
        "contacts-TOTAL_FORMS": str(len(contacts)),
        "contacts-INITIAL_FORMS": str(initial_contacts),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    for index, contact in enumerate(contacts):
        data.update({f"contacts-{index}-{name}": value for name, value in contact.items()})
    data.update(changes)
    return data


def form_errors(response):
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


@pytest.fixture
def staff_sales_manager(db):
    """Staff, a sales manager: may reassign customers, may not change credit limits."""
    user = UserFactory(username="staffmanager", role=SALES_MANAGER)
    user.is_staff = True
    user.save()
    return user


class TestTaxIds:
    def test_a_tax_id_typed_with_spaces_and_dashes_is_stored_normalised(self, client, admin_user, rep):
        client.force_login(admin_user)

        response = client.post(ADD_URL, admin_form(rep, tax_id="de 123 456-789"))

        assert response.status_code == 302, form_errors(response)
        assert Customer.objects.get(name="Globex Corporation").tax_id == "DE123456789"

    def test_a_duplicate_written_differently_is_refused_on_the_field(self, client, admin_user, rep):
        CustomerFactory(tax_id="DE123456789")
        client.force_login(admin_user)

        response = client.post(ADD_URL, admin_form(rep, tax_id="de 123.456.789"))

        assert form_errors(response)["tax_id"] == ["A customer with this tax ID already exists."]
        assert not Customer.objects.filter(name="Globex Corporation").exists()

    def test_a_duplicate_on_edit_is_refused_on_the_field_too(self, client, admin_user, customer):
        CustomerFactory(tax_id="DE123456789")
        client.force_login(admin_user)

        response = client.post(change_url(customer), admin_form(customer.owner, tax_id="de123456789"))

        assert form_errors(response)["tax_id"] == ["A customer with this tax ID already exists."]


class TestGuardedFields:
    def test_a_staff_user_without_the_credit_permission_cannot_change_the_credit_limit(
        self, client, staff_sales_manager, customer
    ):
        client.force_login(staff_sales_manager)
        page = client.get(change_url(customer))
        assert "credit_limit" in page.context["adminform"].readonly_fields
        assert 'name="credit_limit"' not in page.text

        response = client.post(change_url(customer), admin_form(customer.owner, credit_limit="99999.00"))

        assert response.status_code == 302, form_errors(response)
        customer.refresh_from_db()
        assert customer.credit_limit == Decimal("10000.00")
        assert customer.name == "Globex Corporation"  # what they may change is saved

    def test_an_admin_changes_the_credit_limit_through_the_service(self, client, admin_user, customer):
        client.force_login(admin_user)
        response = client.post(change_url(customer), admin_form(customer.owner, credit_limit="25000.50"))
        assert response.status_code == 302, form_errors(response)
        customer.refresh_from_db()
        assert (customer.credit_limit, customer.version) == (Decimal("25000.50"), 2)  # the service bumps it

    def test_the_owner_is_chosen_among_sales_users(self, client, admin_user, customer, clerk):
        client.force_login(admin_user)
        response = client.post(change_url(customer), admin_form(clerk))
        assert list(form_errors(response)) == ["owner"]
        customer.refresh_from_db()
        assert customer.owner != clerk

    def test_a_bidi_control_in_the_name_is_a_field_error(self, client, admin_user, rep):
        client.force_login(admin_user)
        response = client.post(ADD_URL, admin_form(rep, name="Evil\u202egnp.exe"))
        assert list(form_errors(response)) == ["name"]
        assert not Customer.objects.exists()


class TestVersions:
    def test_a_save_over_someone_elses_change_is_refused(self, client, admin_user, sales_manager, customer):
        client.force_login(admin_user)
        assert 'name="opened_version" value="1"' in client.get(change_url(customer)).text
        update_customer(customer=customer, by=sales_manager, data={"phone": "+49 40 999"})  # meanwhile

        response = client.post(change_url(customer), admin_form(customer.owner, opened_version="1"), follow=True)

        assert "changed by someone else since you opened it" in response.text
        customer.refresh_from_db()
        assert (customer.name, customer.phone) == ("Acme Industries GmbH", "+49 40 999")


class TestContactsInline:
    def test_contacts_added_in_the_admin_follow_the_service_rules(self, client, admin_user, customer):
        client.force_login(admin_user)
        contacts = [{"name": "Jane Doe", "email": "", "phone": "+49 1", "job_title": "CFO", "is_primary": ""}]

        response = client.post(change_url(customer), admin_form(customer.owner, contacts=contacts))

        assert response.status_code == 302, form_errors(response)
        jane = Contact.objects.get(name="Jane Doe")
        assert jane.is_primary  # the service makes a customer's first contact its primary one

    def test_the_contact_admin_refuses_a_bidi_name(self, client, admin_user, customer):
        client.force_login(admin_user)
        response = client.post(
            reverse("admin:crm_contact_add"),
            {"customer": customer.pk, "name": "A\u2066B", "email": "", "phone": "+49 1", "job_title": ""},
        )
        assert list(response.context["adminform"].form.errors) == ["name"]


class TestDeleting:
    def test_an_admin_deletes_a_customer_through_the_service(self, client, admin_user, customer):
        client.force_login(admin_user)
        response = client.post(reverse("admin:crm_customer_delete", args=[customer.pk]), {"post": "yes"})
        assert response.status_code == 302
        assert not Customer.objects.filter(pk=customer.pk).exists()

    def test_a_staff_user_who_may_not_delete_gets_no_delete(self, client, staff_sales_manager, customer):
        client.force_login(staff_sales_manager)
        response = client.post(reverse("admin:crm_customer_delete", args=[customer.pk]), {"post": "yes"})
        assert response.status_code == 403
        assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize("model", ["lead", "opportunity", "quote", "servicecase"])
def test_selling_records_are_looked_up_in_the_admin_but_changed_on_their_pages(client, admin_user, model):
    from tests.factories import LeadFactory, OpportunityLineFactory, ServiceCaseFactory

    LeadFactory()
    OpportunityLineFactory()
    ServiceCaseFactory()
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:crm_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:crm_{model}_add")).status_code == 403
