"""Concord's roles. Each is a Django group; its permissions are granted by each
app's own data migration (see `grant`), so an app only ever names its own
permissions.
"""

SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
FINANCE_CLERK = "Finance clerk"
FINANCE_MANAGER = "Finance manager"
ADMIN = "Admin"

ROLES = (SALES_REP, SALES_MANAGER, FINANCE_CLERK, FINANCE_MANAGER, ADMIN)
SALES_ROLES = (SALES_REP, SALES_MANAGER)
FINANCE_ROLES = (FINANCE_CLERK, FINANCE_MANAGER)


def grant(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Give roles permissions of one app, from a data migration.

    `grants` maps a role name to permission codenames of `app_label`. Permissions
    are normally created after migrations run; they are created here first so a
    fresh database gets its roles in one `migrate`.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {p.codename for p in perms}
        if missing:
            raise LookupError(f"Unknown {app_label} permissions for {role}: {sorted(missing)}")
        group.permissions.add(*perms)
