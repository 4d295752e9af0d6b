from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User
from crm.models import Contact, Customer

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_every_role_a_user_and_a_realistic_book():
    call_command("seed_demo", stdout=StringIO())
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {"rep", "rep2", "salesmanager", "clerk", "financemanager", "admin"}
    for user in User.objects.all():
        assert user.check_password("demo")
        assert user.role_names, user.username
    assert Customer.objects.count() >= 50
    assert Contact.objects.count() >= Customer.objects.count()
    owners = set(Customer.objects.values_list("owner__username", flat=True))
    assert {"rep", "rep2"} <= owners
    assert Customer.objects.filter(credit_limit__isnull=False).exists()
    assert Customer.objects.missing_billing_details().exists()  # something for finance to do


def test_seed_demo_can_run_twice():
    call_command("seed_demo", stdout=StringIO())
    counts = (User.objects.count(), Customer.objects.count(), Contact.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), Customer.objects.count(), Contact.objects.count()) == counts


def test_every_demo_user_can_sign_in(rf):
    call_command("seed_demo", stdout=StringIO())
    for username in ["rep", "rep2", "salesmanager", "clerk", "financemanager", "admin"]:
        request = rf.post("/login/")  # axes needs the request to count failures
        assert authenticate(request, username=username, password="demo"), username
