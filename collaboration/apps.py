from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "collaboration"
    verbose_name = "Collaboration"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        from accounts.roles import ROLES

        from . import registry

        User = get_user_model()
        # People have a feed too (what they post and do): following someone follows it.
        registry.register_record(
            User,
            visible=lambda user: (
                User.objects.in_roles(*ROLES) if user.has_role(*ROLES) or user.is_superuser else User.objects.none()
            ),
            noun="person",
            url=lambda pk: reverse("collaboration:person_feed", args=[pk]),
        )
        registry.register_event("approval.requested", "Asked for approval: {label}")
        registry.register_event("approval.approved", "Approved: {label}")
        registry.register_event("approval.rejected", "Rejected: {label}")
