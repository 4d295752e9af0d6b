"""Request-level helpers that every page shares."""

from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    """What a signed-in person sees is theirs: no browser or proxy keeps a copy.

    A page, CSV export or API answer for a signed-in user gets
    `Cache-Control: private, no-store` unless the view chose its own caching. Static
    files never get here (WhiteNoise answers them earlier), and pages for signed-out
    visitors (the login page) are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if not response.has_header("Cache-Control") and user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
