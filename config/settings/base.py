"""Settings for every environment, read strictly from environment variables.

With nothing set, the platform runs on embedded SQLite with Celery tasks executed in-process.
DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis/RabbitMQ with real workers.
"""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_broker, env_database, env_int, env_list, env_str
from config.logs import logging_config
from config.queues import task_queues, task_routes

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# The embedded default is for a laptop; production.py refuses to start without a real key.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-embedded-default-change-me-" + "x" * 20)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:" + env_str("PORT", "8000"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "csp",
    "django_htmx",
    "surveys",
]

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env_database("DATABASE_URL", str(BASE_DIR / "db.sqlite3"))}
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
LOCALE_PATHS = [BASE_DIR / "surveys" / "locale"]
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
# Workers log through LOGGING below (JSON lines with the task's id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = "UTC"

# Aggregation (surveys/services/aggregation): time limits per task (kept below the broker's
# visibility timeout), the round size above which items are split across workers, and the
# Real-Time debounce window. AGGREGATION_TEST_PAUSE ("phase:seconds") is for fault tests only.
AGGREGATION_SOFT_TIME_LIMIT = env_int("AGGREGATION_SOFT_TIME_LIMIT", 540, minimum=1)
AGGREGATION_TIME_LIMIT = env_int("AGGREGATION_TIME_LIMIT", 600, minimum=2)
AGGREGATION_CHUNK_ANSWERS = env_int("AGGREGATION_CHUNK_ANSWERS", 2_000_000, minimum=1)
LIVE_DEBOUNCE_SECONDS = env_int("LIVE_DEBOUNCE_MS", 1000) / 1000
AGGREGATION_TEST_PAUSE = env_str("AGGREGATION_TEST_PAUSE", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# JSON lines with the request id (LOG_FORMAT=text for reading by eye); see config/logs.py.
LOGGING = logging_config(fmt=env_str("LOG_FORMAT", "json"), level=env_str("LOG_LEVEL", "INFO"))
