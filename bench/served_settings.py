"""Settings of the app as `python -m bench --served` runs it under gunicorn: the project's
own settings (DEBUG off, from the environment the bench passes), plus the bench URLconf
(the app and the hand-written baseline view) and plain HTTP on 127.0.0.1."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# No request log line per request: the load generator counts them.
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
