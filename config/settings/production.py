"""Settings for a deployment: base.py plus what running in public over HTTPS demands.

Refuses to start without a real DJANGO_SECRET_KEY, AGORA_PSEUDONYM_KEY and
DJANGO_ALLOWED_HOSTS, or with DJANGO_DEBUG on. Static files are collected (collectstatic) and
served by whitenoise with hashed, compressed names. DJANGO_HTTPS=false, for plain HTTP on
127.0.0.1 only (`make serve`, the tests), turns off the HTTPS-only parts; `manage.py check
--deploy` then says so.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.settings.base import *  # noqa: F403 - this module extends base
from config.settings.base import BASE_DIR, DEBUG

if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be false with config.settings.production.")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "insecure" in SECRET_KEY:
    raise ImproperlyConfigured(
        "Environment variable DJANGO_SECRET_KEY must be set to at least 50 random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'.")
# A key file on one web node's disk would give every node its own pseudonyms: set it everywhere.
PSEUDONYM_KEY = env_str("AGORA_PSEUDONYM_KEY")
if len(PSEUDONYM_KEY) < 32 or PSEUDONYM_KEY == SECRET_KEY:
    raise ImproperlyConfigured(
        "Environment variable AGORA_PSEUDONYM_KEY must be set to at least 32 random characters, "
        "other than DJANGO_SECRET_KEY, and kept: it keys the experts' pseudonyms (changing it "
        "changes every one), e.g. python -c 'import secrets; print(secrets.token_hex(32))'.")
if not env_str("DJANGO_ALLOWED_HOSTS"):
    raise ImproperlyConfigured("Environment variable DJANGO_ALLOWED_HOSTS must name the site's host(s).")

# nginx terminates TLS and says so in X-Forwarded-Proto; gunicorn must be reachable only
# through it (bound to 127.0.0.1 or a private network), or the header could be forged.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
HTTPS = env_bool("DJANGO_HTTPS", True)
SECURE_SSL_REDIRECT = HTTPS
# Probes from the load balancer or monitoring may come over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# nginx appends the client's address to X-Forwarded-For: the token rate limits and the staff-login
# lockout count that address, not nginx's (same trust as SECURE_PROXY_SSL_HEADER above).
TRUSTED_PROXIES = env_int("DJANGO_TRUSTED_PROXIES", 1)

# Collected files only, with content hashes in their names so browsers may cache them forever,
# and gzip/brotli copies made once by collectstatic. Compressing takes collectstatic most of a
# minute; DJANGO_STATIC_COMPRESS=false skips it (make serve, the tests, the benchmark).
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if env_bool("DJANGO_STATIC_COMPRESS", True)
                    else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
