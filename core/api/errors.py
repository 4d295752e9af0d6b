"""Errors of one shape for every API endpoint.

Every error answers with
    {"error": {"code": "validation_error", "message": "…", "fields": {"tax_id": ["…"]}}}
where `fields` is present only for field errors.
"""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status

from core.concurrency import StaleVersion

from .concurrency import PreconditionFailed

T = TypeVar("T")

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
        return None  # a real bug: let Django answer 500 (JSON, see core.views)

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


class ConflictError(exceptions.APIException):
    """A 409: the record's state forbids the request (see `detail`)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records still point to this one."
    default_code = "conflict"


def call_service(operation: Callable[[], T], *, conflict: type[DjangoValidationError]) -> T:
    """Run a service for the API: its `conflict` error (the record's state forbids the
    request) is a 409 with its messages, a record changed since the client read it a 412.
    A domain conflict is a ValidationError, which the handler would answer with a 400:
    so it is caught here, first."""
    try:
        return operation()
    except conflict as error:
        raise ConflictError(" ".join(error.messages)) from error
    except StaleVersion as error:
        raise PreconditionFailed() from error
