"""Request rates: per user (whichever token or session) and per anonymous client,
counted in Django's cache (Redis when REDIS_URL is set); a throttled request gets 429
in the shared error shape with Retry-After."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from .helpers import customer_url, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """rates(user="3/min", anon=None): the API's rates for this test, with fresh counters."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rates


@pytest.fixture(autouse=True)
def _fresh_counters(actors):
    # Ids may repeat between tests (SQLite reuses them); start every count at zero.
    cache.delete_many([f"throttle_user_{user.pk}" for user in actors.values()] + ["throttle_anon_127.0.0.1"])
    yield
    cache.delete_many([f"throttle_user_{user.pk}" for user in actors.values()] + ["throttle_anon_127.0.0.1"])


def test_a_user_past_the_rate_gets_429_with_retry_after(as_actor, rates):
    rates(user="3/min", anon="100/min")
    client = as_actor("rep")

    statuses = [client.get(customer_url()).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get(customer_url())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    error = error_of(response)
    assert error["code"] == "throttled"
    assert error["message"].startswith("Request was throttled. Expected available in ")


def test_writes_count_too(as_actor, rates):
    rates(user="2/min", anon="100/min")
    client = as_actor("rep")
    assert client.post(customer_url(), {"name": "A"}).status_code == 201
    assert client.post(customer_url(), {"name": "B"}).status_code == 201
    assert client.post(customer_url(), {"name": "C"}).status_code == 429


def test_the_rate_is_per_user_across_their_tokens(as_actor, rates):
    rates(user="2/min", anon="100/min")
    first, second = as_actor("rep"), as_actor("rep", scope="read")
    assert first.get(customer_url()).status_code == 200
    assert second.get(customer_url()).status_code == 200
    assert first.get(customer_url()).status_code == 429
    assert second.get(customer_url()).status_code == 429

    assert as_actor("other_rep").get(customer_url()).status_code == 200  # someone else's budget


def test_the_count_lives_in_the_cache(as_actor, actors, rates):
    rates(user="1/min", anon="100/min")
    client = as_actor("rep")
    assert client.get(customer_url()).status_code == 200
    assert client.get(customer_url()).status_code == 429

    cache.delete(f"throttle_user_{actors['rep'].pk}")

    assert client.get(customer_url()).status_code == 200


def test_anonymous_requests_are_counted_per_client_address(api_client, rates):
    rates(user="100/min", anon="2/min")
    schema = "/api/schema/?format=json"  # the one API view open to anonymous clients

    assert [api_client.get(schema).status_code for _ in range(3)] == [200, 200, 429]
    response = api_client.get(schema)
    assert int(response["Retry-After"]) > 0
    assert error_of(response)["code"] == "throttled"
    assert api_client.get(schema, REMOTE_ADDR="10.0.0.2").status_code == 200  # another client


def test_a_forged_forwarded_for_does_not_escape_the_anonymous_rate(api_client, rates):
    rates(user="100/min", anon="1/min")
    schema = "/api/schema/?format=json"
    assert api_client.get(schema, HTTP_X_FORWARDED_FOR="10.9.9.1").status_code == 200
    assert api_client.get(schema, HTTP_X_FORWARDED_FOR="10.9.9.2").status_code == 429


def api_settings_under(**environ) -> dict:
    """The API settings a fresh process reads from these environment variables."""
    code = (
        "import django, json; django.setup(); from rest_framework.settings import api_settings as s; "
        "print(json.dumps({'renderers': [r.__name__ for r in s.DEFAULT_RENDERER_CLASSES], "
        "'parsers': [p.__name__ for p in s.DEFAULT_PARSER_CLASSES], "
        "'throttles': [t.__name__ for t in s.DEFAULT_THROTTLE_CLASSES], 'rates': s.DEFAULT_THROTTLE_RATES}))"
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("API_THROTTLE_")}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", **environ}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


class TestSettings:
    PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "concord.example.com"}

    def test_production_throttles_with_defaults_takes_json_only_and_has_no_browsable_api(self):
        api = api_settings_under(**self.PRODUCTION)

        assert api["renderers"] == ["JSONRenderer"]
        assert api["parsers"] == ["JSONParser"]
        assert api["throttles"] == ["UserRateThrottle", "AnonRateThrottle"]
        assert api["rates"] == {"user": "600/min", "anon": "60/min"}

    def test_rates_come_from_the_environment(self):
        api = api_settings_under(**self.PRODUCTION, API_THROTTLE_USER_RATE="5000/hour", API_THROTTLE_ANON_RATE="10/min")
        assert api["rates"] == {"user": "5000/hour", "anon": "10/min"}

    def test_the_browsable_api_is_there_while_developing(self):
        assert api_settings_under(DEBUG="true")["renderers"] == ["JSONRenderer", "BrowsableAPIRenderer"]
