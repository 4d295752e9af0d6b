"""What every Concord API endpoint shares: errors of one shape, cursor pagination,
model permissions, and the schema that documents them.

Every error answers with
    {"error": {"code": "validation_error", "message": "…", "fields": {"tax_id": ["…"]}}}
where `fields` is present only for field errors.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, permissions

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Errors by field name; present for validation errors only.",
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, value in detail.items() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for item in detail for message in _flatten(item)]
    return [str(detail)]


def _from_django_validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": error.messages})


def exception_handler(exc, context):
    """DRF's handler, plus domain errors from services, reshaped to one error format."""
    # Imported here: rest_framework.views reads the API settings, which name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = _from_django_validation_error(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django answer 500 (JSON, see config.views)

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        general = _flatten(detail.pop("non_field_errors", []))
        fields = {field: _flatten(messages) for field, messages in detail.items()}
        message = " ".join(general) or "Some fields are invalid; see `fields`."
        response.data = error_body("validation_error", message, fields)
        if general and fields:
            response.data["error"]["fields"]["non_field_errors"] = general
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, " ".join(_flatten(getattr(exc, "detail", str(exc)))))
    return response


class CursorPagination(pagination.CursorPagination):
    """Stable pages however fast rows are added; no COUNT(*) over a big table."""

    ordering = ("-updated_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200


class ModelPermissions(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission, creating its add permission,
    deleting its delete permission.

    Changes are checked by the services, which know field-level rules (a rep edits
    only customers they own; only finance managers change credit limits), and
    raise PermissionDenied, answered as 403.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.view_%(model_name)s"],
        "PATCH": ["%(app_label)s.view_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: document the shared error shape on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    descriptions = {
        "400": "Invalid input; field errors under `error.fields`.",
        "401": "No credentials, or an unknown or revoked token.",
        "403": "Not allowed for this user or token scope.",
        "404": "No such object, or not visible to you.",
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            codes = ["401", "403"]
            if method in ("post", "put", "patch") or method == "get":
                codes.insert(0, "400")
            if "{" in path:
                codes.append("404")
            for code in codes:
                responses.setdefault(code, {"description": descriptions[code], **ref})
    return result
