"""Django settings. Every value that differs between machines comes from the environment, parsed strictly
by `psirt.lib.config` (a bad value stops start-up with a message naming the variable)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from psirt.lib.config import ConfigError, is_offline_command, load_config

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    CONFIG = load_config(os.environ, base_dir=BASE_DIR, web=not is_offline_command(sys.argv))
except ConfigError as exc:  # pragma: no cover - exercised through subprocess tests
    sys.stderr.write(f"psirt: configuration error: {exc}\n")
    raise SystemExit(2) from None

PSIRT_DEV = CONFIG.dev
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
PSIRT_ENCRYPTION_KEYS = CONFIG.encryption_keys
PSIRT_AUDIT_KEYS = CONFIG.audit_keys  # psirt.audit.services
PSIRT_AUDIT_CHECKPOINT_DIR = CONFIG.audit_checkpoint_dir
PSIRT_VAR_DIR = CONFIG.var_dir
# None: the attachments and the CSAF tree live in PSIRT_VAR_DIR (see psirt.lib.paths.shared_dir).
PSIRT_SHARED_DIR = CONFIG.shared_dir
PSIRT_BASE_URL = CONFIG.base_url
PSIRT_TEAM_KEY_FILE = CONFIG.team_key_file
PSIRT_SIGNING_KEY_FILE = CONFIG.signing_key_file
PSIRT_DEMO_PASSWORD = CONFIG.demo_password
PSIRT_DEMO_VENDOR = CONFIG.demo_vendor
PSIRT_MAX_ATTACHMENT_MB = CONFIG.max_attachment_mb
PSIRT_MAX_ATTACHMENTS_TOTAL_MB = CONFIG.max_attachments_total_mb
PSIRT_NOTIFY_GIVE_UP_HOURS = CONFIG.notify_give_up_hours
PSIRT_SMTP_SESSIONS = CONFIG.smtp_sessions  # psirt.mail.services
PSIRT_WEBHOOK_ALLOW_PRIVATE = CONFIG.webhook_allow_private
PSIRT_HIRING_URL = CONFIG.hiring_url
PSIRT_MIIT_WORKING_DAYS = CONFIG.miit_working_days
PSIRT_CNA_ORG_ID = CONFIG.cna_org_id
PSIRT_CNA_SHORT_NAME = CONFIG.cna_short_name
PSIRT_PUBLIC_PAGE_CACHE = CONFIG.public_page_cache  # psirt.pages.pagecache
PSIRT_APP_URL = CONFIG.app_url  # psirt.ops.export
PSIRT_STATIC_EXPORT_DIR = CONFIG.static_export_dir  # psirt.ops.export
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    # psirt's apps from the bottom of the layers up (docs/architecture.md).
    "psirt.lib",
    "psirt.audit",
    "psirt.organization",
    "psirt.counters",
    "psirt.mail",
    "psirt.accounts",
    "psirt.catalog",
    "psirt.pages",
    "psirt.intake",
    "psirt.cases",
    "psirt.components",
    "psirt.advisories",
    "psirt.notify",
    "psirt.regulatory",
    "psirt.metrics",
    "psirt.ops",
    "psirt.api",
    "psirt.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # only for its static files: Swagger UI at /api/docs is served from them, never from a CDN
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a form: file names sent in GB18030 or Latin-1 are kept, not silently dropped.
    "psirt.lib.multipart.MultipartHeaderMiddleware",
    "psirt.lib.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers a public page-cache hit before the session, locale, CSRF and user work (after the security headers).
    "psirt.pages.pagecache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the message middleware: an expired session is told why it was signed out.
    "psirt.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "psirt.accounts.middleware.RequireStaffMFAMiddleware",
]

ROOT_URLCONF = "psirt.urls"
WSGI_APPLICATION = "psirt.wsgi.application"

TEMPLATES = [
    {
        # Django's, with constant `{% translate %}` texts kept per catalog (psirt.lib.templates).
        "BACKEND": "psirt.lib.templates.DjangoTemplates",
        "NAME": "django",  # the name Django's own backend has, which code and apps ask for (`engines["django"]`)
        "DIRS": [BASE_DIR / "psirt" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "psirt.pages.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache shared by every process (rate limits, throttling) without Redis: the database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "psirt_cache",
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "pages:home"

# allauth: e-mail only, sign-up closed (leads invite), throttled, TOTP + recovery codes.
ACCOUNT_ADAPTER = "psirt.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/15m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/h/key",
}
# No mail to addresses that have no account (password reset), so the form cannot be used to spam anyone.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_ADAPTER = "psirt.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "psirt"
# Staff must enrol in TOTP outside dev mode (psirt.accounts.middleware.RequireStaffMFAMiddleware).
PSIRT_REQUIRE_MFA = not CONFIG.dev

# Idle sessions end; browser-close ends them too. The idle limit is enforced per request.
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
PSIRT_IDLE_TIMEOUT = 30 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A bilingual page that says what to do (reload, cookies) instead of Django's bare 403.
CSRF_FAILURE_VIEW = "psirt.lib.views.csrf_failure"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "psirt" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone

STATIC_URL = "/static/"
# Site-wide assets live in psirt/static (psirt itself is not an app, so the app finder would miss them).
STATICFILES_DIRS = [BASE_DIR / "psirt" / "static"]
STATIC_ROOT = CONFIG.var_dir / "static"
# whitenoise warns at every worker start when the folder is missing; in dev mode (files come from the finders)
# and in tests it is simply empty. A read-only var dir is reported by what needs to write there.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str((CONFIG.shared_dir or CONFIG.var_dir) / "files")},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if CONFIG.dev
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = CONFIG.dev
# Uploaded files never go to a public URL: attachments are served by views that check access.
MEDIA_URL = None
FILE_UPLOAD_PERMISSIONS = 0o600
# Uploads never reach the disk in plaintext: a small request stays in memory, anything larger is encrypted as it
# arrives into PSIRT_SHARED_DIR/files/spool, and nothing past the attachment size limits is kept (Django's default
# would spool it unencrypted to the system temporary folder).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "psirt.intake.uploads.EncryptingUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400

EMAIL_BACKEND = CONFIG.email.backend
EMAIL_HOST = CONFIG.email.host
EMAIL_PORT = CONFIG.email.port
EMAIL_HOST_USER = CONFIG.email.user
EMAIL_HOST_PASSWORD = CONFIG.email.password
EMAIL_USE_TLS = CONFIG.email.use_tls
EMAIL_USE_SSL = CONFIG.email.use_ssl
EMAIL_TIMEOUT = CONFIG.email.timeout
DEFAULT_FROM_EMAIL = CONFIG.default_from_email
SERVER_EMAIL = CONFIG.default_from_email
EMAIL_SUBJECT_PREFIX = "[psirt] "

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Security headers. HSTS and secure cookies whenever the public URL is https.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CONFIG.https
CSRF_COOKIE_SECURE = CONFIG.https
SECURE_SSL_REDIRECT = CONFIG.https and not CONFIG.dev
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.https else None
SECURE_HSTS_SECONDS = 31536000 if CONFIG.https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.https
SECURE_HSTS_PRELOAD = False
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SILENCED_SYSTEM_CHECKS = [
    # Preload is an irreversible commitment for the whole domain; the operator decides it, not us.
    "security.W021",
]

NINJA_PAGINATION_PER_PAGE = 50

# Django appends ":" to form labels (and keeps "?" etc. before it); listing both here puts them in our
# catalogue, so Chinese labels end in a full-width colon instead of an English one.
gettext_noop(":")
gettext_noop(":?.!")

PSIRT_NAV = [
    ("advisories", _("Advisories")),
    ("report", _("Report a vulnerability")),
    ("updates", _("Software updates")),
    ("policy", _("Policy")),
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Task arguments may hold identifiers of confidential objects: keep them out of INFO logs.
        "django_tasks": {"level": "WARNING"},
    },
}
