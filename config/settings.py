"""Concord settings, driven by environment variables (see README → Environment).

The defaults give the embedded set-up of `make run`: SQLite under var/, tasks run
eagerly, mail written to files. Production and CI set DATABASE_URL, REDIS_URL and
friends.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Only the embedded/dev set-up may run on the well-known development key.
_DEV_SECRET_KEY = "django-insecure-concord-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "axes",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework",
    "template_partials",
    # Concord, in dependency order
    "core",
    "accounts",
    "crm",
    "billing",
    "receivables",
    "collaboration",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a stored format it does not know is told to the user (core.formats).
    "core.middleware.UserFormatMiddleware",
    "core.middleware.PrivatePagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes must come last: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% url %}` remembering the URLs without arguments (core/templatetags/cached_url.py).
            "builtins": ["core.templatetags.cached_url"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.concord",
                "collaboration.context_processors.notifications",  # the bell's unread count (cached)
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'concord.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot keep connections across threads usefully; WAL lets the dev
    # server read while a request writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, Celery -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker every task runs in-process, at once: the embedded set-up needs no worker.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = env.str("TIME_ZONE", default="UTC")
CELERY_BEAT_SCHEDULE = {
    "accounts-clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # --- recurring billing (billing.plans): invoice the periods begun by today ---
    "billing-daily-run": {
        "task": "billing.tasks.billing_daily",
        "schedule": crontab(hour=5, minute=7),
    },
    # --- statements (receivables): the previous month's statements, early on the 1st ---
    "receivables-monthly-statements": {
        "task": "receivables.tasks.send_monthly_statements",
        "schedule": crontab(day_of_month=1, hour=6, minute=23),
    },
    # --- dunning (receivables): promises kept or broken first, then the day's run ---
    "receivables-evaluate-promises": {
        "task": "receivables.tasks.evaluate_payment_promises",
        "schedule": crontab(hour=6, minute=41),
    },
    "receivables-daily-dunning": {
        "task": "receivables.tasks.run_daily_dunning",
        "schedule": crontab(hour=7, minute=3),
    },
}

# --- Auth ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first: it refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with each user's permissions and roles cached (invalidated by accounts.signals).
    "accounts.backends.CachedModelBackend",
]
# Sessions read from the cache, written through to the database: no session query on a warm request.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# A failed attempt while locked out must not restart the 15 minutes: otherwise anyone
# who keeps trying a person's name keeps that person locked out for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Lockouts key on the client's address, read from X-Forwarded-For behind our own
# proxies (TRUSTED_PROXY_COUNT); django-ipware is not needed for that.
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
# How many reverse proxies of ours stand in front of the app (e.g. 1 for the HTTPS
# proxy the README describes). 0: X-Forwarded-For is ignored, since clients could forge it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Password-reset requests per hour, per email address and per client address. Past
# either limit the page answers as usual but sends no mail.
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=5)
PASSWORD_RESET_LIMIT_PER_CLIENT = env.int("PASSWORD_RESET_LIMIT_PER_CLIENT", default=20)

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en"
# The interface is English for everyone; only formats follow the user (core.formats).
# Without this, LocaleMiddleware would switch Django's own texts (form errors, the
# admin) and its number formats to the browser's language.
LANGUAGES = [("en", "English")]
# The company's clock and format: what a user who has chosen none (and whose
# browser names no supported locale) sees.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
COMPANY_LOCALE = env.str("COMPANY_LOCALE", default="en-GB")
# The formats a user may choose (Babel locale identifiers, with a BCP 47 hyphen):
# dates, grouping and decimal mark follow them; the interface text stays English.
FORMAT_LOCALES = [
    "en-US",
    "en-GB",
    "en-IE",
    "de-DE",
    "de-AT",
    "de-CH",
    "fr-FR",
    "fr-BE",
    "nl-NL",
    "es-ES",
    "it-IT",
    "pt-PT",
    "pl-PL",
    "sv-SE",
    "da-DK",
    "fi-FI",
]
# Machine-read answers keep the company's clock and plain formats whoever asks:
# the API's date-times and its `updated_since` filter never depend on a user's settings.
FORMAT_EXEMPT_PATHS = ["/api/"]
# Polls answered from the cache without loading the user; their views apply the format when they render.
FORMAT_DEFERRED_PATHS = ["/feed/live/"]
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "core.staticfiles.AppDirectoriesFinder",  # collects no unused Bootstrap builds
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ---------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # filemail:///srv/mail → /srv/mail (django-environ drops the leading slash);
    # plain filemail:// → var/mail/.
    _mail_path = EMAIL_CONFIG.pop("EMAIL_FILE_PATH", "")
    EMAIL_FILE_PATH = "/" + _mail_path.lstrip("/") if _mail_path else str(VAR_DIR / "mail")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Concord <concord@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Company and money ---------------------------------------------------------
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
# --- Feed (collaboration) -------------------------------------------------------
# Links in notification emails start here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
FEED_TEXT_MAX_CHARS = env.int("FEED_TEXT_MAX_CHARS", default=5000)
FEED_ATTACHMENT_MAX_BYTES = env.int("FEED_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
FEED_ATTACHMENTS_PER_POST = env.int("FEED_ATTACHMENTS_PER_POST", default=5)
# File name extensions people may attach: documents, spreadsheets, images, text.
FEED_ATTACHMENT_TYPES = env.list(
    "FEED_ATTACHMENT_TYPES",
    default=["pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv", "docx", "xlsx", "pptx", "odt", "ods", "eml"],
)
# How often open record pages and My feed ask "anything new?" (new items show within this).
FEED_LIVE_INTERVAL_MS = env.int("FEED_LIVE_INTERVAL_MS", default=1500)

COMPANY_NAME = env.str("COMPANY_NAME", default="Concord Demo GmbH")
COMPANY_ADDRESS = env.str("COMPANY_ADDRESS", default="Hauptstraße 1\n10115 Berlin\nGermany")
COMPANY_TAX_ID = env.str("COMPANY_TAX_ID", default="DE000000000")
# --- Documents (core.documents) -------------------------------------------------
# The company as printed on quotes, invoices and letters.
COMPANY = {
    "name": COMPANY_NAME,
    "address_lines": [line for line in COMPANY_ADDRESS.splitlines() if line.strip()],
    "email": env.str("COMPANY_EMAIL", default="billing@concord.example"),
    "tax_id": COMPANY_TAX_ID,
    "bank": env.str("COMPANY_BANK", default="Demo Bank AG"),
    "iban": env.str("COMPANY_IBAN", default="DE89 3704 0044 0532 0130 00"),
    "bic": env.str("COMPANY_BIC", default="COBADEFFXXX"),
}
# Which of STORAGES keeps rendered PDFs (a private bucket in production).
DOCUMENT_STORAGE = env.str("DOCUMENT_STORAGE", default="default")

# --- Receivables ----------------------------------------------------------------
RECEIVABLES = {
    # Aging buckets: days past due, each bucket's upper bound (the last is open-ended).
    "AGING_BUCKETS": [(0, "Current"), (30, "1–30"), (60, "31–60"), (90, "61–90"), (None, "90+")],
    # Remaining balances up to this much may be written off (with a finance manager's approval).
    "WRITE_OFF_LIMIT": env.str("WRITE_OFF_LIMIT", default="50.00"),
    # Automatic credit hold: more than this amount overdue by more than this many days.
    "HOLD_OVERDUE_DAYS": env.int("HOLD_OVERDUE_DAYS", default=60),
    "HOLD_OVERDUE_AMOUNT": env.str("HOLD_OVERDUE_AMOUNT", default="1000.00"),
    # Payment behaviour is measured over this many months.
    "BEHAVIOUR_MONTHS": 12,
    # Dunning holds a customer while an open deal is this likely (percent) or this large.
    "DUNNING_HOLD_PROBABILITY": env.int("DUNNING_HOLD_PROBABILITY", default=75),
    "DUNNING_HOLD_AMOUNT": env.str("DUNNING_HOLD_AMOUNT", default="50000.00"),
    # A notice's send claimed this long ago by a worker is taken over (0: the task's time limit + 60 s).
    "DUNNING_STALE_CLAIM_SECONDS": env.int("DUNNING_STALE_CLAIM_SECONDS", default=0),
}

# --- Security ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie; the token travels in hx-headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP by load balancers and compose.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Scripts only from the app itself; no inline script anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Forms, tables -------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-hover align-middle mb-0"}

# --- REST API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes DRF answer 401, not 403.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.authentication.TokenScopePermission",
        "core.api.permissions.ModelPermissions",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.DjangoFilterBackend",
        "core.api.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    # JSON in (of a sane depth, see core.api.parsers): one request body type per
    # write in the schema. An upload endpoint adds MultiPartParser itself.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    # JSON out; the browsable API only while developing (DEBUG): its forms offer
    # every user as an owner, and its inline script is blocked by the CSP anyway.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Rates as "<requests>/<sec|min|hour|day>"; counted in the default cache (Redis
    # when REDIS_URL is set). A throttled request gets 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.UserRateThrottle", "core.api.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER_RATE", default="600/min"),
        "anon": env.str("API_THROTTLE_ANON_RATE", default="60/min"),
    },
    # Anonymous clients are told apart by address: X-Forwarded-For counts only
    # behind that many proxies of ours (0: REMOTE_ADDR, as clients could forge it).
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": (
        "Sales and finance on one customer master. Authenticate with "
        "`Authorization: Token <key>` (or `Bearer <key>`); create keys under "
        "Account → API tokens. Errors share one shape: "
        '`{"error": {"code": ..., "message": ..., "fields": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Customer and ApprovalRequest both have a `status`: the second choice set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "crm.models.Customer.Status",  # as it was named before approvals came
        "ApprovalStatusEnum": "collaboration.models.ApprovalRequest.Status",
        "QuoteStatusEnum": "crm.models.Quote.Status",  # --- quotes (quotes helper) ---
        "InvoiceStatusEnum": "billing.models.Invoice.Status",  # --- invoices (billing API helper) ---
        "PaymentStatusEnum": "receivables.models.Payment.Status",  # --- payments (receivables) ---
        # --- dunning (receivables) ---
        "CollectionTaskOutcomeEnum": "receivables.models.CollectionTask.Outcome",
        "DisputeResolutionEnum": ["credit", "partial", "rejected"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_error_responses",
    ],
}

# --- Logging -------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each rendering step at INFO; its warnings (a refused URL) stay.
        "weasyprint": {"level": "WARNING"},
    },
}
