"""What the header's global search finds in the CRM (core.search): customers and contacts."""

from urllib.parse import urlencode

from django.urls import reverse

from core.search import SearchProvider, SearchResult

from .models import Contact, Customer


def _customer_result(customer: Customer) -> SearchResult:
    detail = " · ".join(part for part in (customer.legal_name, customer.tax_id, customer.email) if part)
    return SearchResult(customer.name, customer.get_absolute_url(), detail)


def _contact_result(contact: Contact) -> SearchResult:
    detail = " · ".join(part for part in (contact.customer.name, contact.email, contact.phone) if part)
    return SearchResult(contact.name, f"{contact.customer.get_absolute_url()}#contact-{contact.pk}", detail)


CUSTOMERS = SearchProvider(
    key="customers",
    label="Customers",
    noun="customer",
    permission="crm.view_customer",
    find=lambda user, query: Customer.objects.visible_to(user).search(query).order_by("name", "id"),
    result=_customer_result,
    see_all_url=lambda query: f"{reverse('crm:customer_list')}?{urlencode({'q': query})}",
)

CONTACTS = SearchProvider(
    key="contacts",
    label="Contacts",
    noun="contact",
    permission="crm.view_customer",
    find=lambda user, query: (
        Contact.objects.visible_to(user).search(query).select_related("customer").order_by("name", "id")
    ),
    result=_contact_result,
)
