"""Static-file finding that leaves out the Bootstrap builds no page loads."""

from django.contrib.staticfiles.finders import AppDirectoriesFinder as DjangoAppDirectoriesFinder

# django-bootstrap-static ships every build of Bootstrap (unminified, RTL, ESM, the
# grid/reboot/utilities parts, jQuery), ~6 MB with their source maps; the pages load
# only bootstrap.min.css and bootstrap.bundle.min.js. Compressing the rest (brotli and
# gzip, WhiteNoise) took `collectstatic` from about 35 s to 2 minutes on every deploy.
# Paths under STATIC_URL, so the admin's own jQuery stays.
UNUSED = [
    "bootstrap/css/*.rtl.*",
    "bootstrap/css/bootstrap-grid*",
    "bootstrap/css/bootstrap-reboot*",
    "bootstrap/css/bootstrap-utilities*",
    "bootstrap/css/bootstrap.css*",
    "bootstrap/js/bootstrap.js*",
    "bootstrap/js/bootstrap.min.js*",
    "bootstrap/js/bootstrap.esm*",
    "bootstrap/js/bootstrap.bundle.js*",
    "bootstrap/js/jquery*",
]


class AppDirectoriesFinder(DjangoAppDirectoriesFinder):
    """Django's finder of apps' static/ folders whose listing (what `collectstatic`
    copies) skips UNUSED. Finding a named file (runserver, the test server) is unchanged."""

    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *UNUSED])
