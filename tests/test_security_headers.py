"""Signed-in pages are never kept by a browser or proxy cache."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.parametrize(
    "url",
    [
        reverse("home"),
        reverse("crm:customer_list"),
        reverse("crm:customer_list") + "?_export=csv",
        reverse("token_list"),
    ],
)
def test_signed_in_pages_are_private_and_not_stored(client, rep, url):
    client.force_login(rep)
    response = client.get(url)
    assert response.status_code == 200
    assert cache_control(response) == {"private", "no-store"}


def test_the_record_page_is_private_and_not_stored(client, rep, customer):
    client.force_login(rep)
    assert cache_control(client.get(customer.get_absolute_url())) == {"private", "no-store"}


def test_the_api_answers_a_signed_in_user_privately_too(client, rep, customer):
    client.force_login(rep)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 200
    assert cache_control(response) == {"private", "no-store"}


def test_a_view_that_chooses_its_own_caching_keeps_it(client, rep):
    client.force_login(rep)
    response = client.post(reverse("token_create"), {"name": "Sync", "scope": "read"})
    assert response.status_code == 200
    assert "max-age=0" in cache_control(response)  # never_cache's header, untouched


def test_signed_out_pages_are_left_alone(client, db):
    response = client.get(reverse("password_reset_done"))
    assert response.status_code == 200
    assert "Cache-Control" not in response


def test_static_files_keep_their_own_caching(rep, settings, tmp_path):
    (tmp_path / "site.css").write_text("body {}")
    settings.STATIC_ROOT = tmp_path
    client = Client()  # WhiteNoise indexes STATIC_ROOT when the client builds its middleware
    client.force_login(rep)
    response = client.get(f"/{settings.STATIC_URL.strip('/')}/site.css")
    assert response.status_code == 200
    assert not {"private", "no-store"} & cache_control(response)
