"""Model and object permissions for API views."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission, creating its add permission,
    deleting its delete permission.

    Changing one record is decided per record, before the body is even read:
    PUT/PATCH/DELETE ask the view's `may_change(user, obj)` / `may_delete(user, obj)`
    (an app's permissions module: a rep changes only customers they own) and are
    refused 403 when it says no, even when nothing would change. Which fields may
    change is then checked by the services (PermissionDenied, answered 403).
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

    def _queryset(self, view):
        # Only the model is needed here; the view's class-level queryset names it
        # without building the filtered queryset of get_queryset() a second time.
        if getattr(view, "queryset", None) is not None:
            return view.queryset
        return super()._queryset(view)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        if request.method == "DELETE":
            check, self.message = getattr(view, "may_delete", None), "You may not delete this record."
        else:
            check, self.message = getattr(view, "may_change", None), "You may not change this record."
        if check is None:
            return True  # the view leaves it to its services
        message = getattr(view, "object_permission_messages", {}).get(request.method)
        if message:
            self.message = message
        return bool(check(request.user, obj))
