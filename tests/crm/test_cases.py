"""Service cases (crm.cases): anyone logs one, a deal of another customer is refused,
resolving stamps the time and reopening clears it, and the customer's followers and
owner hear of them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import Follow, InboxEntry
from crm import cases
from crm.models import ServiceCase
from tests.factories import CustomerFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def test_anyone_with_a_role_logs_a_case_and_owns_it_by_default(clerk, customer):
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "Invoice total wrong"})
    assert (case.owner, case.created_by, case.status, case.resolved_at) == (clerk, clerk, "open", None)


def test_someone_without_a_role_may_not(outsider, customer):
    with pytest.raises(PermissionDenied):
        cases.log_case(by=outsider, customer=customer, data={"subject": "x"})


def test_the_related_deal_must_be_the_customers(rep, customer):
    other_deal = OpportunityFactory(customer=CustomerFactory())
    with pytest.raises(ValidationError) as error:
        cases.log_case(by=rep, customer=customer, data={"subject": "x", "opportunity": other_deal})
    assert "opportunity" in error.value.message_dict
    own_deal = OpportunityFactory(customer=customer)
    assert cases.log_case(by=rep, customer=customer, data={"subject": "x", "opportunity": own_deal}).opportunity


def test_resolving_stamps_the_time_and_reopening_clears_it(clerk, customer):
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "Broken"})
    case = cases.update_case(case=case, by=clerk, data={"status": "resolved"})
    assert case.resolved_at is not None
    stamped = case.resolved_at
    case = cases.update_case(case=case, by=clerk, data={"status": "closed"})
    assert case.resolved_at == stamped
    case = cases.update_case(case=case, by=clerk, data={"status": "in_progress"})
    assert case.resolved_at is None
    verbs = list(case_feed_verbs(case))
    assert "case.resolved" in verbs and "case.reopened" in verbs


def case_feed_verbs(case):
    from collaboration.models import FeedItem

    return FeedItem.objects.filter(target_id=case.pk, target_type__model="servicecase").values_list("verb", flat=True)


def test_the_customers_followers_hear_of_a_new_case(rep, clerk, customer):
    import collaboration

    collaboration.follow(rep, customer)
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "Late delivery"})
    assert InboxEntry.objects.filter(user=rep, item__verb="case.opened", item__target_id=case.pk).exists()


def test_a_serious_case_puts_the_customers_owner_on_it(rep, clerk, customer):
    normal = cases.log_case(by=clerk, customer=customer, data={"subject": "Minor"})
    assert not Follow.objects.filter(user=rep, target_id=normal.pk, target_type__model="servicecase").exists()
    serious = cases.log_case(by=clerk, customer=customer, data={"subject": "Outage", "severity": "critical"})
    assert Follow.objects.filter(user=rep, target_id=serious.pk, target_type__model="servicecase").exists()
    assert InboxEntry.objects.filter(user=rep, item__verb="case.opened", item__target_id=serious.pk).exists()
    # Raised to high later: the owner is put on it then.
    cases.update_case(case=normal, by=clerk, data={"severity": "high"})
    assert Follow.objects.filter(user=rep, target_id=normal.pk, target_type__model="servicecase").exists()
    assert ServiceCase.objects.serious().count() == 2


def test_a_case_stays_with_its_customer(clerk, customer):
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "x"})
    with pytest.raises(ValidationError):
        cases.update_case(case=case, by=clerk, data={"customer": CustomerFactory()})


def test_a_stale_version_is_refused(clerk, customer):
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "x"})
    with pytest.raises(cases.StaleVersion):
        cases.update_case(case=case, by=clerk, data={"status": "waiting"}, expected_version=case.version + 5)
