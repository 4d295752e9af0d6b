from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm

from .models import ApiToken, User
from .services import preference_errors


class UserAdminForm(UserChangeForm):
    """Refuses a format or time zone the app does not know, by the preferences page's rule."""

    def clean(self):
        cleaned = super().clean()
        errors = preference_errors(locale=cleaned.get("locale", ""), time_zone=cleaned.get("time_zone", ""))
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminForm
    list_display = ("username", "email", "first_name", "last_name", "role_list", "is_active")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")
    # Unknown values are refused (UserAdminForm); one stored some other way falls back to the
    # company's default with a message (core.middleware.UserFormatMiddleware).
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Format and time zone", {"fields": ("locale", "time_zone")}))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def role_list(self, user):
        return user.role_label


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        # Keys are shown once at creation: create them on the API tokens page or with
        # `manage.py create_api_token`, never here where the key could not be shown.
        return False
