"""drf-spectacular hooks shared by every API resource."""

from .errors import ERROR_SCHEMA


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
            elif any(parameter.get("name") == "cursor" for parameter in operation.get("parameters", [])):
                responses.setdefault("404", {"description": "The `cursor` is not one this list gave out.", **ref})
            for code in codes:
                responses.setdefault(code, {"description": descriptions[code], **ref})
            for code, response in responses.items():
                # Errors a view documents itself (e.g. a 409) share the shape too.
                if code.startswith("4") and "content" not in response:
                    response.update(ref)
    return result
