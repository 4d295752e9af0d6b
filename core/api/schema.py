"""drf-spectacular hooks shared by every API resource: the schema says exactly what
the server refuses, so a client generated from it never sends what is then refused."""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from .errors import ERROR_SCHEMA
from .filters import IdFilter

ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

DESCRIPTIONS = {
    "400": "Invalid input; field errors under `error.fields`.",
    "401": "No credentials, or an unknown or revoked token.",
    "403": "Not allowed for this user or token scope.",
    "404": "No such object, or not visible to you.",
    "406": "The `Accept` header names no type the API answers with; it answers `application/json`.",
    "415": "The body is not `application/json`.",
    "429": "Too many requests; try again after `Retry-After` seconds.",
}
# Answered by the WSGI server (gunicorn's `limit_request_line`, 4,094 bytes by default)
# or the proxy in front of it, before Django runs: a plain HTML page, not the error shape.
URI_TOO_LONG = {
    "description": "The URL (with its query string) is longer than the server accepts; "
    "send fewer or shorter filter values.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds until a request may succeed."}
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: document the shared error shape on every operation,
    with every status the API may answer with before a view runs (406 content
    negotiation, 415 body type, 401/403, 429 throttling) or while it runs."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            codes = ["401", "403", "406", "429"]
            if method != "delete":
                codes.insert(0, "400")
            if "{" in path:
                codes.append("404")
            if "requestBody" in operation:
                codes.append("415")
            if any(parameter.get("name") == "cursor" for parameter in operation.get("parameters", [])):
                responses.setdefault(
                    "400",
                    {
                        "description": "Invalid input: a filter or `ordering` value, a `page_size` outside "
                        "its range (under `error.fields`), or a `cursor` this list did not give out "
                        "(code `invalid_cursor`).",
                        **ERROR_REF,
                    },
                )
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], **ERROR_REF})
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                responses.setdefault("414", URI_TOO_LONG)
            responses["429"].setdefault("headers", RETRY_AFTER)
            for code, response in responses.items():
                # Errors a view documents itself (e.g. a 409) share the shape too.
                if code.startswith("4") and "content" not in response:
                    response.update(ERROR_REF)
    return result


class DecimalStringFieldExtension(OpenApiSerializerFieldExtension):
    """Money as a decimal string, with a pattern as strict as the field: drf-spectacular's
    own (`^-?\\d{0,12}(?:\\.\\d{0,2})?$`) allows "." and a minus sign even when the
    field refuses negatives, and "" even when the field is not nullable."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if schema.get("type") == "string" and field.max_whole_digits is not None:
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            whole, places = field.max_whole_digits, field.decimal_places
            whole_part = rf"\d{{1,{whole}}}" if whole else "0"
            number = rf"{sign}(?:{whole_part}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
            # DRF reads "" as null where null is allowed.
            schema["pattern"] = rf"^(?:{number})?$" if field.allow_null else rf"^{number}$"
        return schema


class BoundedFilterExtension(DjangoFilterExtension):
    """django-filter parameters with the bounds their filters enforce
    (`NumberFilter(min_value=1, max_value=2**63 - 1)` → minimum/maximum), and integer
    where the filter takes whole numbers only (core.api.filters.IdFilter)."""

    priority = 1  # preferred over drf-spectacular's own extension for the same backend

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        bounds = {"minimum": filter_field.extra.get("min_value"), "maximum": filter_field.extra.get("max_value")}
        whole = isinstance(filter_field, IdFilter)  # NumberFilter's decimals say number
        for parameter in parameters:
            parameter["schema"].update({key: value for key, value in bounds.items() if value is not None})
            if whole:
                parameter["schema"]["type"] = "integer"
        return parameters
