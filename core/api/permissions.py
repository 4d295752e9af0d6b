"""Model permissions for API views."""

from rest_framework import permissions


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

    def _queryset(self, view):
        # Only the model is needed here; the view's class-level queryset names it
        # without building the filtered queryset of get_queryset() a second time.
        if getattr(view, "queryset", None) is not None:
            return view.queryset
        return super()._queryset(view)
