"""Small helpers shared by the API tests."""


def customer_url(customer_or_id=None):
    if customer_or_id is None:
        return "/api/v1/customers/"
    return f"/api/v1/customers/{getattr(customer_or_id, 'pk', customer_or_id)}/"


def contact_url(contact_or_id=None):
    if contact_or_id is None:
        return "/api/v1/contacts/"
    return f"/api/v1/contacts/{getattr(contact_or_id, 'pk', contact_or_id)}/"


def error_of(response) -> dict:
    """The `error` object of the shared error shape, checked on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]
