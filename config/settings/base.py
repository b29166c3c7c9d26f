"""Settings for every environment, read strictly from environment variables.

With nothing set, the platform runs on embedded SQLite with Celery tasks executed in-process.
DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis/RabbitMQ with real workers.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_broker, env_cache, env_database, env_int, env_list, env_str
from config.logs import logging_config
from config.queues import task_queues, task_routes

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# The embedded default is for a laptop; production.py refuses to start without a real key.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-embedded-default-change-me-" + "x" * 20)
# Files the platform makes for itself (the pseudonym key, the rate-limit counters of the embedded
# default, reports): git-ignored var/ in the checkout unless AGORA_DATA_DIR says otherwise.
DATA_DIR = Path(env_str("AGORA_DATA_DIR", str(BASE_DIR / "var")))
# Reports kept in storage (surveys/reports/jobs.py): the rendered pages and PDFs, served only by
# the report views after the study-role check; every web process and worker must share it.
REPORTS_DIR = Path(env_str("AGORA_REPORTS_DIR", str(DATA_DIR / "reports")))
# The key of the experts' pseudonyms (surveys/pseudonyms.py), never SECRET_KEY: unset, a random key
# is created on first use in DATA_DIR/pseudonym.key; production.py requires it.
PSEUDONYM_KEY = env_str("AGORA_PSEUDONYM_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:" + env_str("PORT", "8000"))

INSTALLED_APPS = [
    "config.admin.SuperuserAdminConfig",  # the admin, for superusers only (config/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_htmx",
    "surveys",
    "workspace",
    "api",
    "ops",
    "throttle",
]

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so answers made by the middleware below (a 400 for a wrong Host) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes 8 requires: turns a locked-out staff login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's base_site.html override (the referrer meta its CSRF check needs).
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# AGORA_SQLITE_PATH: the embedded database's file (tests start web processes on one of their own).
DATABASES = {"default": env_database("DATABASE_URL", env_str("AGORA_SQLITE_PATH",
                                                             str(BASE_DIR / "db.sqlite3")))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "surveys" / "locale", BASE_DIR / "workspace" / "locale",
                BASE_DIR / "api" / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve straight from the apps' static folders until collectstatic has run (production sets False).
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: organizer text and rationales can never run as code.
# How often the Fielding page asks for fresh figures while a survey is open.
FIELDING_POLL_SECONDS = 10

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Agora Delphi <delphi@localhost>")
# SMTP for invitations and reminders (DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 30, minimum=1)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL cannot both be true.")
# The outbox: every message sent is also kept for the study's organizers to read in the
# workspace, as the expert receives it (personal links included). Only where no mail leaves the
# machine (the embedded default's console backend, locmem, file, dummy) or with DEBUG on; with a
# real mail backend and DEBUG off (production) it is off and nothing is kept.
NON_DELIVERING_EMAIL_BACKENDS = {f"django.core.mail.backends.{name}.EmailBackend"
                                 for name in ("console", "locmem", "filebased", "dummy")}
AGORA_OUTBOX = DEBUG or EMAIL_BACKEND in NON_DELIVERING_EMAIL_BACKENDS

# Celery: without a broker, tasks run in-process right after the transaction commits.
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "agora")
# Aggregation, email and reports have queues of their own (agora.aggregation, ...): a slow
# report never delays a round's feedback. See config/queues.py.
CELERY_TASK_ROUTES = task_routes(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Redis only, both optional: a key prefix keeps deployments (or fault tests) sharing one Redis
# apart, and CELERY_RESTORE_INTERVAL (s) sets how often a worker looks for messages whose
# visibility timeout ran out (kombu's default sweep is about 100 s).
if env_str("CELERY_BROKER_KEYPREFIX", ""):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEYPREFIX")
if env_str("CELERY_RESTORE_INTERVAL", ""):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL", 10, minimum=1),
        "unacked_restore_throttle": 1,
    }
CELERY_TIMEZONE = "UTC"
# Beat (one per deployment) wakes the workspace every WORKSPACE_TICK_SECONDS: rounds past their
# deadline close, scheduled rounds open, due reminders go out (each claimed exactly once).
CELERY_BEAT_SCHEDULE = {
    "workspace-due-work": {
        "task": "workspace.tasks.due_work",
        "schedule": env_int("WORKSPACE_TICK_SECONDS", 120, minimum=10),
    },
}

# Aggregation (surveys/services/aggregation): time limits per task (kept below the broker's
# visibility timeout), the round size above which items are split across workers, and the
# Real-Time debounce window.
AGGREGATION_SOFT_TIME_LIMIT = env_int("AGGREGATION_SOFT_TIME_LIMIT", 540, minimum=1)
AGGREGATION_TIME_LIMIT = env_int("AGGREGATION_TIME_LIMIT", 600, minimum=2)
# Above this many answers a round is split into chunks of about this many, computed by several
# worker processes. Worth it when workers have cores of their own beside PostgreSQL's (on a
# 2-core machine one task is as fast; see the benchmark in the README).
AGGREGATION_CHUNK_ANSWERS = env_int("AGGREGATION_CHUNK_ANSWERS", 2_000_000, minimum=1)
LIVE_DEBOUNCE_SECONDS = env_int("LIVE_DEBOUNCE_MS", 1000) / 1000
if AGGREGATION_SOFT_TIME_LIMIT >= AGGREGATION_TIME_LIMIT:
    raise ImproperlyConfigured("AGGREGATION_SOFT_TIME_LIMIT must be below AGGREGATION_TIME_LIMIT")

REST_FRAMEWORK = {
    # Staff: personal API tokens (Authorization: Bearer ...) or their session. Experts' invitation
    # tokens (X-Invitation-Token) are accepted only by the /api/v1/me/ endpoints.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out: no form parsing, no browsable HTML (which would need inline script). The
    # parser refuses deep nesting (400); bodies over DATA_UPLOAD_MAX_MEMORY_SIZE answer 413.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS answers 405: the schema describes every endpoint
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Agora Delphi API",
    "DESCRIPTION": "Studies, rounds, the panel, responses, aggregates and exports (see README).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package, served by the platform (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Passwords: argon2 first; older hashes are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Staff-login lockout (django-axes 8, counted in its database tables): its backend comes first.
AUTHENTICATION_BACKENDS = [
    "api.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
# Locked when either is exceeded: failures for one username from any addresses (guesses spread
# over many addresses), or failures from one address and browser for any usernames (spraying one
# password over many accounts). Someone can thus lock an account for the cool-off by guessing
# its username: the price of stopping distributed guessing; `manage.py axes_reset_username`
# unlocks it.
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address", "user_agent"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "throttle.tokens.client_ip"
# A locked-out login gets the platform's own 429 page (JSON under /api/), not axes' bare text.
AXES_LOCKOUT_CALLABLE = "surveys.views.errors.login_lockout"
# A refused form gets the platform's 403 page, without Django's explanation of the CSRF check.
CSRF_FAILURE_VIEW = "surveys.views.errors.csrf_failure"
# Proxies in front of the web process that append to X-Forwarded-For (nginx in production: 1).
TRUSTED_PROXIES = env_int("DJANGO_TRUSTED_PROXIES", 0)

# The cache: Redis from CACHE_URL, else the Redis broker, else this process's memory. The token
# rate-limit counters (never the staff-login ones, which axes keeps in its tables) must be shared
# by every web process: in that Redis, else in files in DATA_DIR (throttle/tokens.py).
CACHES = {"default": env_cache("CACHE_URL", CELERY_BROKER_URL)}
CACHES["ratelimit"] = CACHES["default"] if CACHES["default"]["BACKEND"].endswith("RedisCache") else {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": str(DATA_DIR / "ratelimit"), "OPTIONS": {"MAX_ENTRIES": 20_000}}
# Sessions live in the database; with Redis as the cache, each is also kept there and read from
# there (a database query less on each of an expert's requests; the database alone while Redis
# is down, config/sessions.py). Never with this process's memory: another web process would not
# see a session ended here.
SESSION_ENGINE = ("config.sessions" if CACHES["default"]["BACKEND"].endswith("RedisCache")
                  else "django.contrib.sessions.backends.db")
# Wrong invitation or API tokens allowed per client and window before 429 answers.
TOKEN_RATE_LIMIT = env_int("TOKEN_RATE_LIMIT", 10, minimum=1)
TOKEN_RATE_WINDOW = env_int("TOKEN_RATE_WINDOW", 60, minimum=1)
# Seconds after a reminder sent by hand during which another one of the same round sends
# nothing (a second click, a second tab, a concurrent request).
MANUAL_REMINDER_WINDOW = env_int("MANUAL_REMINDER_WINDOW", 600, minimum=1)

# JSON lines with the request id (LOG_FORMAT=text for reading by eye); see config/logs.py.
LOGGING = logging_config(fmt=env_str("LOG_FORMAT", "json"), level=env_str("LOG_LEVEL", "INFO"))
