from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user, except the API, which authenticates
    each request itself (tokens or session) and answers 401 instead of redirecting."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        if not getattr(view_func, "login_required", True):
            # Django's own check loads the user first; a view open to all (or one that checks
            # the session itself, like the feed's live poll) should not pay for that.
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
