"""Settings for kontaktbok, read from ``KONTAKTBOK_*`` environment variables.

The embedded default needs no server: SQLite and the secret key live in a data directory.
``KONTAKTBOK_PROFILE=production`` turns on HTTPS-only cookies, HSTS and SSL redirect.
"""

import datetime as dt
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from kontaktbok.core.files import create_once
from kontaktbok.core.rate_limits import DEFAULTS as RATE_LIMIT_DEFAULTS
from kontaktbok.national.conf import national_apps
from kontaktbok.paths import data_dir

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"KONTAKTBOK_{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def secret_from_file(path: Path, nbytes: int = 50) -> str:
    """Read a secret from ``path``, creating it with mode 600 on first run."""
    if not path.exists():
        create_once(path, secrets.token_urlsafe(nbytes).encode())
    return path.read_text().strip()


PROFILE = env("PROFILE", "embedded")
if PROFILE not in {"embedded", "production"}:
    raise RuntimeError("KONTAKTBOK_PROFILE must be 'embedded' or 'production'")
PRODUCTION = PROFILE == "production"

DATA_DIR = data_dir()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env("SECRET_KEY") or secret_from_file(DATA_DIR / "secret_key")
# Key for the keyed digest of national identity numbers; kept apart from SECRET_KEY so
# that rotating the session key never breaks matching at login.
NIN_DIGEST_KEY = env("NIN_DIGEST_KEY") or secret_from_file(DATA_DIR / "nin_digest_key")
# Key for message attachments at rest (AES-GCM); after a rotation the old keys, comma
# separated, still open what they encrypted.
FILE_KEY = env("FILE_KEY") or secret_from_file(DATA_DIR / "file_key")
FILE_KEYS_OLD = env_list("FILE_KEYS_OLD")
# Key of the audit log's seal (an HMAC chain, ``core/audit_seal.py``), kept apart from the
# database so that database access alone cannot forge a chain; never change it once set,
# or the sealed days can no longer be verified.
AUDIT_SEAL_KEY = env("AUDIT_SEAL_KEY") or secret_from_file(DATA_DIR / "audit_seal_key")

# How far back attendance and the daily check may be recorded or corrected (days).
ATTENDANCE_DAYS_BACK = int(env("ATTENDANCE_DAYS_BACK", "14"))
# A guardian may undo withdrawing an absence report for this long.
REPORT_UNDO_MINUTES = int(env("REPORT_UNDO_MINUTES", "5"))

# Backups (``kontaktbok backup``): encrypted for this age public key (``age1...``); the
# private key, needed to restore, is kept away from the server.
BACKUP_RECIPIENT = env("BACKUP_RECIPIENT")
BACKUP_DIR = Path(env("BACKUP_DIR", str(DATA_DIR / "backups")))
BACKUP_IDENTITY_FILE = Path(env("BACKUP_IDENTITY")) if env("BACKUP_IDENTITY") else None
# Taken every night at this school-local time; kept: daily, weekly, monthly copies.
BACKUP_AT = env("BACKUP_AT", "02:00")
BACKUP_KEEP = env("BACKUP_KEEP", "7,4,12")
# Optionally also copied to an S3-compatible bucket.
BACKUP_S3_BUCKET = env("BACKUP_S3_BUCKET")
BACKUP_S3_PREFIX = env("BACKUP_S3_PREFIX", "")
BACKUP_S3_ENDPOINT_URL = env("BACKUP_S3_ENDPOINT_URL")
BACKUP_S3_REGION = env("BACKUP_S3_REGION")
BACKUP_S3_ACCESS_KEY = env("BACKUP_S3_ACCESS_KEY")
BACKUP_S3_SECRET_KEY = env("BACKUP_S3_SECRET_KEY")

# The demo may run on a moved clock (``kontaktbok demo_clock``); production never does.
DEMO_CLOCK_FILE = None if PRODUCTION else DATA_DIR / "demo-clock"
# The demo (``make demo`` sets KONTAKTBOK_DEMO=1): without a mail server or SMS gateway,
# what a school sends is kept for its admin to read. Never in production.
DEMO = env_bool("DEMO") and not PRODUCTION
# How long each process keeps the demo clock before reading the file again (seconds).
DEMO_CLOCK_CACHE_SECONDS = 2.0
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Our apps first, so that our templates override allauth's.
    "kontaktbok.core",
    "kontaktbok.schools",
    "kontaktbok.roster",
    "kontaktbok.accounts",
    "kontaktbok.notifications",
    "kontaktbok.absence",
    "kontaktbok.leave",
    "kontaktbok.directory",
    "kontaktbok.messaging",
    "kontaktbok.backups",
    "kontaktbok.privacy",
    "kontaktbok.national",
    "kontaktbok.archive",
    "kontaktbok.submissions",
    "kontaktbok.relaylog",
    "kontaktbok.demo",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_tasks_db",
    "django.forms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "kontaktbok.national.middleware.ProviderFormActionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kontaktbok.core.middleware.LanguageMiddleware",
    "kontaktbok.core.middleware.SecurityHeadersMiddleware",
    "kontaktbok.core.middleware.BadInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kontaktbok.accounts.middleware.SessionTimeoutMiddleware",
    "kontaktbok.accounts.middleware.RequireMfaMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "kontaktbok.urls"
WSGI_APPLICATION = "kontaktbok.wsgi.application"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kontaktbok.notifications.context_processors.notifications",
                "kontaktbok.absence.context_processors.lookup",
            ],
            "builtins": ["kontaktbok.core.templatetags.dates"],
        },
    },
]

DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "kontaktbok.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env("CACHE_URL")
CACHES: dict[str, dict[str, object]]
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kontaktbok_cache",
            # The rate-limit counters live here: Django's default of 300 entries would cull
            # (delete a third of) the live counters of a busy morning every hundred writes.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "kontaktbok.accounts.backends.VerifiedEmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Accounts are made by the school, never by sign-up; users log in with their e-mail.
ACCOUNT_ADAPTER = "kontaktbok.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"reset_password": "kontaktbok.accounts.forms.ResetPasswordForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# Adding or changing an e-mail address needs the password again (after 5 minutes).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
# Failed logins: 10 a minute per IP, 5 per 5 minutes per account. Both lapse by themselves,
# so an attacker is slowed and the real user is never locked out for good.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "reset_password": "20/m/ip,5/m/key",
}
# Login limits key on the client's address. Behind the TLS proxy (production's default) the
# address of the connection is the proxy's, so the client's is read from the right of
# X-Forwarded-For, past the proxies we run: their number, or every user shares one limit.
TRUSTED_PROXY_COUNT = int(
    env("TRUSTED_PROXY_COUNT", "1" if PRODUCTION and env_bool("BEHIND_PROXY", True) else "0")
)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Named rate limits on what a person can do many times over (kontaktbok.core.ratelimit);
# KONTAKTBOK_RATE_LIMITS (JSON, bucket → rates) overrides any of the defaults.
RATE_LIMITS = {
    **RATE_LIMIT_DEFAULTS,
    **json.loads(env("RATE_LIMITS", "{}")),
}
# National login (docs/login.md): ID-porten for guardians, Feide for staff, each on when its
# KONTAKTBOK_IDPORTEN_* / KONTAKTBOK_FEIDE_* issuer and client id are set.
SOCIALACCOUNT_ADAPTER = "kontaktbok.national.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "kontaktbok.national.oidc.NationalProvider",
        "APPS": national_apps(env),
    }
}
# Nothing of a national login is stored on a social account (its claims hold the pid).
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = False
# The level ID-porten must return: idporten-loa-substantial or idporten-loa-high.
IDPORTEN_ACR = env("IDPORTEN_ACR", "idporten-loa-substantial")
# A session begun with ID-porten ends after this long idle (ID-porten's rule: at most 30).
NATIONAL_SESSION_IDLE_SECONDS = min(int(env("NATIONAL_SESSION_IDLE_MINUTES", "30")), 30) * 60
# Password login (the demo, small installations); off once ID-porten and Feide are set up.
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", True)

MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "kontaktbok"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# A passkey (WebAuthn with PIN or biometrics) on one's own device logs in without a new
# ID-porten round; offered to guardians after an ID-porten login. A municipality that does
# not accept that risk (docs/login.md) sets KONTAKTBOK_PASSKEY_LOGIN=off.
PASSKEY_LOGIN = env_bool("PASSKEY_LOGIN", True)
MFA_PASSKEY_LOGIN_ENABLED = PASSKEY_LOGIN

# Staff sessions end after idle and absolute limits; guardians keep theirs longer.
STAFF_SESSION_IDLE_SECONDS = int(env("STAFF_SESSION_IDLE_MINUTES", "30")) * 60
STAFF_SESSION_ABSOLUTE_SECONDS = int(env("STAFF_SESSION_ABSOLUTE_HOURS", "10")) * 3600
SESSION_COOKIE_AGE = int(env("SESSION_DAYS", "14")) * 86400

LANGUAGE_CODE = "nn"
LANGUAGES = [("nn", _("Norwegian Nynorsk")), ("nb", _("Norwegian Bokmål")), ("en", _("English"))]
# Our own strings first; then our Nynorsk catalog for allauth, which ships none.
LOCALE_PATHS = [PACKAGE_DIR / "locale", PACKAGE_DIR / "accounts" / "allauth_locale"]
LANGUAGE_COOKIE_NAME = "kontaktbok_language"
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [SOURCE_ROOT / "build" / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "kontaktbok <ikkje-svar@kontaktbok.invalid>")
# Without a mail server set, e-mail goes to one on this machine; in the demo, to its sink.
_email_host = env("EMAIL_HOST", "" if DEMO else "localhost")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": int(env("EMAIL_PORT", "25")),
                "username": env("EMAIL_USER"),
                "password": env("EMAIL_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS"),
                "timeout": 20,
            },
        }
    }
else:
    # The demo without a mail server: e-mail is kept in the database, where the school's
    # admin can read what the school would have sent (the demo's sink).
    MAILERS = {"default": {"BACKEND": "kontaktbok.notifications.sink.EmailBackend"}}

# Notifications: non-urgent ones go out between these times (school-local); a guardian who
# chose the daily digest gets non-urgent e-mail once a day at NOTIFY_DIGEST_TIME.
NOTIFY_WINDOW_START = dt.time.fromisoformat(env("NOTIFY_WINDOW_START", "07:00"))
NOTIFY_WINDOW_END = dt.time.fromisoformat(env("NOTIFY_WINDOW_END", "21:00"))
NOTIFY_DIGEST_TIME = dt.time.fromisoformat(env("NOTIFY_DIGEST_TIME", "18:00"))
# A worker holds a delivery this long; after that the sweep hands it to another worker.
DELIVERY_LEASE_SECONDS = int(env("DELIVERY_LEASE_SECONDS", "300"))
# An urgent delivery queued but not taken by a worker in this time is queued again.
DELIVERY_URGENT_REQUEUE_SECONDS = int(env("DELIVERY_URGENT_REQUEUE_SECONDS", "60"))
# /healthz fails when the scheduler has not ticked, or a task has waited for a worker, this long.
SCHEDULER_LATE_SECONDS = int(env("SCHEDULER_LATE_SECONDS", "180"))
TASK_QUEUE_LATE_SECONDS = int(env("TASK_QUEUE_LATE_SECONDS", "120"))
DELIVERY_MAX_ATTEMPTS = int(env("DELIVERY_MAX_ATTEMPTS", "5"))
# SMS: "http" posts to SMS_URL; "sink" keeps messages for the demo; "none": no SMS.
SMS_GATEWAY = env("SMS_GATEWAY", "http" if env("SMS_URL") else "sink" if DEMO else "none")
SMS_URL = env("SMS_URL")
SMS_USER = env("SMS_USER")
SMS_PASSWORD = env("SMS_PASSWORD")
SMS_SENDER = env("SMS_SENDER", "kontaktbok")
SMS_TIMEOUT = float(env("SMS_TIMEOUT", "10"))
# Web push: the VAPID key pair is generated on first run and kept in the data directory.
VAPID_PRIVATE_KEY_FILE = Path(env("VAPID_PRIVATE_KEY_FILE", str(DATA_DIR / "vapid_private.pem")))
# Push goes only to the browsers' push services, over https: a host, or ".domain" for any
# host under it (Chrome and Android, Firefox, Edge, Safari). PUSH_HTTP_HOSTS is empty but in
# the tests, whose local push service runs over http.
PUSH_SERVICE_HOSTS = env_list(
    "PUSH_SERVICE_HOSTS",
    "fcm.googleapis.com,updates.push.services.mozilla.com,.notify.windows.com,web.push.apple.com",
)
PUSH_HTTP_HOSTS: list[str] = []
VAPID_SUBJECT = env("VAPID_SUBJECT", "mailto:ikkje-svar@kontaktbok.invalid")

# Delivery to the municipality's archive over Fiks IO / Fiks Arkiv (docs/submissions.md).
# FIKS_IO_API_URL: https://api.fiks.ks.no (test: https://api.fiks.test.ks.no); empty keeps
# deliveries queued. The demo points it at the local stand-in (``kontaktbok fiks_standin``).
FIKS_IO_API_URL = env("FIKS_IO_API_URL", "http://127.0.0.1:8091" if DEMO else "")
_DEMO_FIKS_ACCOUNT = "8f2c1a52-6d4e-4c36-9e0b-1c0a5b6d7e01"
FIKS_IO_ACCOUNT_ID = env("FIKS_IO_ACCOUNT_ID", _DEMO_FIKS_ACCOUNT if DEMO else "")
FIKS_IO_INTEGRATION_ID = env("FIKS_IO_INTEGRATION_ID", "demo-integrasjon" if DEMO else "")
FIKS_IO_INTEGRATION_PASSWORD = env("FIKS_IO_INTEGRATION_PASSWORD", "demo-passord" if DEMO else "")
# AMQP for the answers: amqps://io.fiks.ks.no:5671 in production (user and password are the
# integration's, the password followed by a Maskinporten token); the local RabbitMQ in the demo.
FIKS_IO_AMQP_URL = env("FIKS_IO_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
# Maskinporten (scope ks:fiks): a JWT grant signed with the signing key below.
MASKINPORTEN_TOKEN_URL = env(
    "MASKINPORTEN_TOKEN_URL", "http://127.0.0.1:8091/maskinporten/token" if DEMO else ""
)
MASKINPORTEN_AUDIENCE = env("MASKINPORTEN_AUDIENCE", "https://maskinporten.no/")
MASKINPORTEN_CLIENT_ID = env("MASKINPORTEN_CLIENT_ID", "demo-klient" if DEMO else "")
MASKINPORTEN_SCOPE = env("MASKINPORTEN_SCOPE", "ks:fiks")
# Our virksomhetssertifikat's key and certificate (PEM): they sign the ASiC-E container and
# the Maskinporten grant, and open the archive's answers. Made self-signed for the demo.
ARCHIVE_SIGNING_KEY_FILE = env("ARCHIVE_SIGNING_KEY_FILE", "")
ARCHIVE_SIGNING_CERTIFICATE_FILE = env("ARCHIVE_SIGNING_CERTIFICATE_FILE", "")
# Tries before a delivery fails; a worker holds a delivery this long before another may.
ARCHIVE_MAX_ATTEMPTS = int(env("ARCHIVE_MAX_ATTEMPTS", "8"))
ARCHIVE_LEASE_SECONDS = int(env("ARCHIVE_LEASE_SECONDS", "300"))
# A sent delivery the archive has not answered (mottatt or kvittering) in this time fails
# and the unit's responsible staff are told.
ARCHIVE_ANSWER_TIMEOUT_MINUTES = int(env("ARCHIVE_ANSWER_TIMEOUT_MINUTES", "120"))

# Secure submissions: attachments per file, in total, and how many.
SUBMISSION_MAX_FILE_MB = int(env("SUBMISSION_MAX_FILE_MB", "20"))
SUBMISSION_MAX_TOTAL_MB = int(env("SUBMISSION_MAX_TOTAL_MB", "40"))
SUBMISSION_MAX_FILES = int(env("SUBMISSION_MAX_FILES", "10"))

TASKS = {"default": {"BACKEND": env("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Content Security Policy: only our own origin, scripts with a per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

if PRODUCTION:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# The technical Django admin (superusers only); the school's admin uses the app's pages.
ADMIN_PATH = env("ADMIN_PATH", "admin/")

# Benchmarks only (bench/morning): every response says how many queries it ran.
if env("BENCH_QUERY_HEADER", "") == "1":
    MIDDLEWARE.insert(0, "kontaktbok.core.querycount.QueryCountMiddleware")
