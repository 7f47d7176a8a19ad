"""One settings file, driven by environment variables (see README, "Configuration").

SQLite under var/ by default; DATABASE_URL switches to PostgreSQL and REDIS_URL
switches the job queue to Redis. Safe for production unless LBSUP_DEBUG=1.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default="0"):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}")


def envlist(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("LBSUP_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    try:
        # O_EXCL: two processes starting at once must not write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("LBSUP_DEBUG")
ALLOWED_HOSTS = envlist("LBSUP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("LBSUP_CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("LBSUP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
LBSUP_WEBHOOK_ALLOW_NETWORKS = envlist("LBSUP_WEBHOOK_ALLOW_NETWORKS", "")
# Fernet keys for stored secrets, newest first (lbsup/core/sealing.py).
LBSUP_SEALING_KEYS = envlist("LBSUP_SEALING_KEYS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    # Second factors (lbsup/core/two_factor.py); the devices are lbsup's own sealed models
    # (lbsup/core/models.py). The two plugins stay installed for their migrations and so that
    # migration core.0002 can move devices made with them before secrets were sealed.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Only for its self-hosted Swagger UI assets and templates: /api/docs loads no CDN script.
    "ninja",
    "lbsup.core",
    "lbsup.audit",
    "lbsup.workspaces",
    "lbsup.crm",
    "lbsup.tickets",
    "lbsup.intake",
    "lbsup.playbooks",
    "lbsup.triage",
    "lbsup.outbound",
    "lbsup.drafts",
    "lbsup.desk",
    "lbsup.followups",
    "lbsup.webhooks",
    "lbsup.reports",
    "lbsup.api",
    "lbsup.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "lbsup.core.two_factor.RequireTwoFactorMiddleware",
    "lbsup.core.middleware.NoStoreForSignedInMiddleware",
    "lbsup.core.middleware.RefuseNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lbsup.urls"
WSGI_APPLICATION = "lbsup.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lbsup.workspaces.context_processors.workspaces",
            ]
        },
    }
]


def _database():
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "lbsup.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
                # busy_timeout instead of failing with "database is locked" on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": VAR_DIR / "test.sqlite3"} if envbool("LBSUP_TEST_DB_FILE") else {},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as e:
        raise ImproperlyConfigured(f"DATABASE_URL is invalid ({e}); expected postgres://user@host:5432/name")
    if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL is invalid: expected postgres://user@host:5432/name (unset it for SQLite)"
        )
    config.setdefault("OPTIONS", {})["connect_timeout"] = envint("LBSUP_DB_CONNECT_TIMEOUT", 5)
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
HUEY = {
    "name": os.environ.get("LBSUP_QUEUE_NAME", "lbsup"),
    "immediate": envbool("LBSUP_HUEY_IMMEDIATE"),
    "utc": True,
    "consumer": {"workers": envint("LBSUP_WORKER_THREADS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    # The priority queue (Redis >= 5): intake and sending run before a triage backlog (core/priorities.py).
    HUEY.update({"huey_class": "huey.PriorityRedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})


def _cache():
    """Shared by every process of an install (rate limits, presence): Redis when configured
    (the database after the queue's, so clearing one never empties the other), else files under var/."""
    if REDIS_URL:
        base, _, db = REDIS_URL.rpartition("/")
        url = f"{base}/{(int(db) + 1) % 16}" if db.isdigit() else REDIS_URL
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}


CACHES = {"default": _cache()}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
OTP_TOTP_ISSUER = "lbsup"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve app static files straight from the apps: a one-machine install needs no collectstatic.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = os.environ.get("LBSUP_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("LBSUP_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = envint("LBSUP_SMTP_PORT", 25)
EMAIL_HOST_USER = os.environ.get("LBSUP_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LBSUP_SMTP_PASSWORD", "")
EMAIL_USE_TLS = envbool("LBSUP_SMTP_STARTTLS")
EMAIL_TIMEOUT = envint("LBSUP_SMTP_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("LBSUP_FROM_EMAIL", "support@lbsup.localhost")

# Always-on hardening; the HTTPS-only parts switch on with LBSUP_HTTPS=1 because
# `make run` serves plain http on 127.0.0.1, where secure cookies would block login.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere, no third-party origin, no framing: a script that slips
# into a page (hostile mail HTML, say) has nothing to run and nowhere to send what it reads.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
if envbool("LBSUP_HTTPS"):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("LBSUP_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("LBSUP_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]  # preload is the owner's decision, not a default
    if envbool("LBSUP_BEHIND_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LBSUP_LOG_LEVEL", "INFO")},
    # The huey consumer attaches its own handler; don't print its lines twice.
    "loggers": {"huey": {"propagate": False}},
}
