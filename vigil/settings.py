"""Vigil settings. Everything that differs between a laptop and production comes from the environment.

Defaults are the embedded, serverless ones used by `make run` (SQLite, a Celery broker on an SQLite
file) and are safe: DEBUG is off unless DJANGO_DEBUG says otherwise, and outside DEBUG a secret key
must be given.
"""

from pathlib import Path

import dj_database_url
import plotly
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from vigil.env import env_bool, env_float, env_int, env_json_object, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VIGIL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    # The web process (wsgi/asgi) must be given a key outside DEBUG. manage.py commands run from a
    # checkout (migrate, makemigrations, seed_demo) sign nothing a user holds, so they may use the
    # development key; manage.py says so through VIGIL_MANAGEMENT_COMMAND.
    if not (DEBUG or env_bool("VIGIL_TESTING", False) or env_bool("VIGIL_MANAGEMENT_COMMAND", False)):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "vigil-insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "governance.core.apps.VigilAdminConfig",  # Django's admin, audited (governance/core/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    # Layers, lowest first (docs/architecture.md): core <- inventory <- validation <- lifecycle.
    "governance.core",
    "models_registry",
    "risk.validation",
    "governance.lifecycle",
    "governance.skills",
    "risk.monitoring",
    "risk.incidents",
    "risk.gate",
    "risk.alerts",
    "risk.threads",
    "risk.dashboards",
    "risk.exports",
    "governance.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files are cached for good) and around everything else, error answers included.
    "governance.core.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login unless its view says otherwise (@login_not_required: the login page, the
    # health check). API views answer 401 themselves (DRF exempts them) and whitenoise serves static files
    # before this runs.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "governance.core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a session ending outside an auditor's access window says why on the login page.
    "governance.core.middleware.AccessWindowMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vigil.urls"
WSGI_APPLICATION = "vigil.wsgi.application"
ASGI_APPLICATION = "vigil.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # People by full name, amounts in the reporting currency, on every page ({{ u|person }}, {{ x|money }}).
            "builtins": ["governance.core.templatetags.display"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vigil.context_processors.navigation",
            ],
        },
    },
]

# SQLite by default so `make run` needs no server; DATABASE_URL=postgres://... in production and CI.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'vigil.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout rides out short write locks.
    # IMMEDIATE transactions take the write lock when they begin, so a second writer (the worker delivering
    # events while another runs a validation) waits out the timeout instead of failing with "database is
    # locked" when a read transaction tries to become a write one.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("VIGIL_TEST_SQLITE_NAME", str(VAR_DIR / "test.sqlite3"))}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler pays off on long analytic scans, not on a page's queries: on the dashboards'
    # correlated subqueries it spent 417 of 701 ms compiling (bench/dashboards.py, 5,000 models). Off per connection.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins before any password check
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Login throttling (django-axes): after N failures for a username from an IP, lock for the cool-off period.
AXES_FAILURE_LIMIT = env_int("VIGIL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("VIGIL_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address as the audit trail records it (behind the trusted proxies, never REMOTE_ADDR = the proxy):
# a lockout then stops the guesser's address only, and the person at another address still signs in.
AXES_CLIENT_IP_CALLABLE = "governance.core.client_address.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("VIGIL_LOGIN_THROTTLING", True)
AXES_VERBOSE = False  # lockouts are in the audit trail and axes' tables; no INFO line per login
# The name authenticator apps show beside a Vigil account (the otpauth URI's issuer).
OTP_TOTP_ISSUER = env_str("VIGIL_OTP_ISSUER", "Vigil")
# Signing throttling (governance/core/signing_lock.py), as login's: after N wrong passwords or codes at signing
# within the window, the person's signatures are refused, even with the right password, for the lock period.
VIGIL_SIGNING_FAILURE_LIMIT = env_int("VIGIL_SIGNING_FAILURE_LIMIT", 5, minimum=1)
VIGIL_SIGNING_FAILURE_WINDOW_MINUTES = env_int("VIGIL_SIGNING_FAILURE_WINDOW_MINUTES", 15, minimum=1)
VIGIL_SIGNING_LOCK_MINUTES = env_int("VIGIL_SIGNING_LOCK_MINUTES", 15, minimum=1)

# The admin never shows a TOTP device's secret (its key, its QR code) once the device exists: whoever reads it
# can produce that person's one-time codes, the second factor of their signatures.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Vigil has no anonymous access: guardian need not create an anonymous user.
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("VIGIL_FAST_PASSWORD_HASHER", False):
    # Tests and benchmarks only: hashing with PBKDF2 dominates the run time of thousands of logins.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "models_registry:model-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# plotly.js comes from the plotly package itself (no CDN, no vendored copy to keep in step).
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).parent / "package_data")]
# Evidence files: a local folder (MEDIA_ROOT) by default; any S3-compatible object store (AWS S3, MinIO,
# Ceph) by settings alone. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID/..., instance role).
EVIDENCE_S3_BUCKET = env_str("VIGIL_EVIDENCE_S3_BUCKET")
DEFAULT_FILE_STORAGE_SETTINGS = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": EVIDENCE_S3_BUCKET,
            "endpoint_url": env_str("VIGIL_EVIDENCE_S3_ENDPOINT_URL"),
            "region_name": env_str("VIGIL_EVIDENCE_S3_REGION"),
            "location": env_str("VIGIL_EVIDENCE_S3_PREFIX", ""),
            "file_overwrite": False,  # evidence is never replaced in place
            "default_acl": None,  # the bucket's policy decides; objects are never public
            "querystring_auth": True,
        },
    }
    if EVIDENCE_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_SETTINGS,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not env_bool("VIGIL_TESTING", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or env_bool("VIGIL_TESTING", False)
MEDIA_ROOT = Path(env_str("VIGIL_MEDIA_ROOT", str(VAR_DIR / "media")))
# The currency notionals and limits are recorded in (ISO 4217 code), shown beside every amount.
# Monitoring batches: rows per batch, and how far ahead of Vigil's clock a reported time may be.
VIGIL_MONITORING_MAX_BATCH = env_int("VIGIL_MONITORING_MAX_BATCH", 10000, minimum=1)
VIGIL_MONITORING_CLOCK_SKEW_SECONDS = env_int("VIGIL_MONITORING_CLOCK_SKEW_SECONDS", 300, minimum=0)
# Monitoring retention, in days by kind (0 keeps forever): trades are records a supervisor may ask for (MiFID II
# record keeping, seven years); outcomes live on the prediction rows. Backfill uploads: the largest file.
VIGIL_MONITORING_RETENTION_DAYS_POINTS = env_int("VIGIL_MONITORING_RETENTION_DAYS_POINTS", 730, minimum=0)
VIGIL_MONITORING_RETENTION_DAYS_TRADES = env_int("VIGIL_MONITORING_RETENTION_DAYS_TRADES", 2555, minimum=0)
VIGIL_MONITORING_RETENTION_DAYS_PREDICTIONS = env_int("VIGIL_MONITORING_RETENTION_DAYS_PREDICTIONS", 730, minimum=0)
VIGIL_MONITORING_BACKFILL_MAX_MB = env_int("VIGIL_MONITORING_BACKFILL_MAX_MB", 500, minimum=1)
# One cache for every web process and worker in production (redis://host:6379/1): the queue badges and the
# gate's decisions are shared then. Without it each process keeps its own (the gate stays exact either way:
# its cache entries carry the database's change counts).
VIGIL_CACHE_URL = env_str("VIGIL_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": VIGIL_CACHE_URL}
        if VIGIL_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# The model gate: how long a decision may sit in the cache (a change or a date it depends on replaces it
# sooner, whatever this says), and the max-age trading systems' HTTP caches may keep an answer.
VIGIL_GATE_CACHE_SECONDS = env_int("VIGIL_GATE_CACHE_SECONDS", 300, minimum=1)
VIGIL_GATE_MAX_AGE_SECONDS = env_int("VIGIL_GATE_MAX_AGE_SECONDS", 1, minimum=0)
# Alerts by webhook: how long a receiver has to answer, the first retry's wait (doubled after each failure, at
# most an hour), how many attempts before a delivery is failed, and how long after a secret's rotation the previous
# secret still signs (so a receiver can switch without losing deliveries). VIGIL_BASE_URL makes alert links
# absolute in webhooks and e-mails (https://vigil.example.com).
VIGIL_WEBHOOK_TIMEOUT_SECONDS = env_float("VIGIL_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1)
VIGIL_WEBHOOK_RETRY_SECONDS = env_float("VIGIL_WEBHOOK_RETRY_SECONDS", 10.0, minimum=0.01)
VIGIL_WEBHOOK_MAX_ATTEMPTS = env_int("VIGIL_WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
VIGIL_WEBHOOK_ROTATION_GRACE_HOURS = env_int("VIGIL_WEBHOOK_ROTATION_GRACE_HOURS", 24, minimum=0)
VIGIL_BASE_URL = env_str("VIGIL_BASE_URL", "")
# Outbound HTTP (governance/core/outbound.py, every request Vigil sends): loopback, link-local, private and cloud
# metadata addresses are refused; VIGIL_OUTBOUND_ALLOWED_NETWORKS (comma-separated CIDRs, e.g. 10.20.0.0/16) allows
# networks of the firm's own (never a metadata address). Resolving and connecting wait at most the connect timeout.
# Webhook deliveries run on their own Celery queue, so a slow receiver never holds a worker anything else waits for.
VIGIL_OUTBOUND_ALLOWED_NETWORKS = env_list("VIGIL_OUTBOUND_ALLOWED_NETWORKS", [])
VIGIL_OUTBOUND_CONNECT_TIMEOUT_SECONDS = env_float("VIGIL_OUTBOUND_CONNECT_TIMEOUT_SECONDS", 3.0, minimum=0.1)
CELERY_TASK_ROUTES = {"alerts.send_webhook": {"queue": "webhooks"}}
# A monitor that stays in warning or breach is alerted again at most this often (a change of outcome at once).
VIGIL_ALERT_REPEAT_MINUTES = env_int("VIGIL_ALERT_REPEAT_MINUTES", 60, minimum=0)
# Exports: how long a file is kept for download (its record and hash stay for ever); the Ed25519 key packs are
# signed with (an OpenSSH or PEM private key file from the firm's secret store; without it a key is made once in
# VIGIL_VAR_DIR, for a demo only); and the name this installation signs as.
VIGIL_EXPORT_KEEP_HOURS = env_int("VIGIL_EXPORT_KEEP_HOURS", 72, minimum=1)
VIGIL_SIGNING_KEY_FILE = env_str("VIGIL_SIGNING_KEY_FILE", "")
VIGIL_INSTANCE_NAME = env_str("VIGIL_INSTANCE_NAME", "vigil")
# List filters offer "Any" rather than a row of dashes.
FILTERS_EMPTY_CHOICE_LABEL = "Any"
VIGIL_REPORTING_CURRENCY = env_str("VIGIL_REPORTING_CURRENCY", "USD")
VIGIL_EVIDENCE_MAX_MB = env_int("VIGIL_EVIDENCE_MAX_MB", 200, minimum=1)
# Uploads above this size stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The largest request body outside file uploads: a full batch of monitoring data (10,000 predictions with a
# few dozen features) is about 10-20 MB of JSON. A larger body answers 413 with a JSON reason in the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("VIGIL_MAX_REQUEST_MB", 32, minimum=1) * 1024 * 1024

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG and not env_bool("VIGIL_TESTING", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("VIGIL_SESSION_SECONDS", 8 * 3600, minimum=300)
# --- Behind reverse proxies, and HTTPS ---------------------------------------------------------------------
# How many reverse proxies (load balancer, nginx...) stand between clients and Vigil, each appending the address it
# received the request from to X-Forwarded-For: the client's address is the Nth entry from the right
# (governance/core/client_address.py). 0: no proxy, the connection's address is the client's. Only then is the
# proxy's X-Forwarded-Proto believed to say the request came over HTTPS.
VIGIL_TRUSTED_PROXY_COUNT = env_int("VIGIL_TRUSTED_PROXY_COUNT", 0, minimum=0)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    raise ImproperlyConfigured(
        "DJANGO_BEHIND_TLS_PROXY is replaced by VIGIL_TRUSTED_PROXY_COUNT: the number of reverse proxies in front of "
        "Vigil (1 for the TLS proxy alone); unset DJANGO_BEHIND_TLS_PROXY"
    )
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if VIGIL_TRUSTED_PROXY_COUNT else None
# Production is served over HTTPS only: plain HTTP is redirected (except the health check, which load balancers ask
# over HTTP) and browsers are told to use HTTPS for a year (HSTS, sent on HTTPS answers only). Both follow
# DJANGO_SECURE_COOKIES unless set, so `make run` (plain HTTP on this machine) turns them off with the cookies.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading binds the whole registered domain (the bank's) into browsers for good: the domain owner's decision, so
# off unless asked, and Django's reminder about it (security.W021) is silenced while it is off.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# A person's API token (POST /api/v1/auth/token/) lives this long: a working day and its evening, like a session.
# Systems that run unattended use service accounts, whose tokens compliance rotates (governance/core/api_tokens.py).
VIGIL_API_TOKEN_LIFETIME_HOURS = env_int("VIGIL_API_TOKEN_LIFETIME_HOURS", 12, minimum=1)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from Vigil's own origin, no inline script of any kind (behaviour
# lives in static/js, charts are JSON that static/js/charts.js draws), no plugins, no framing, forms post only here.
# Style elements need Vigil's origin or the page's nonce (the on-screen report); style attributes are allowed: pages
# and plotly.js set them, and they cannot run code.
# plotly.js adds two style elements of its own, allowed by their hashes: an empty one it fills through the CSSOM, and
# maplibre's stylesheet as text (tests/core/test_csp.py recomputes it from the plotly.js served, so an upgrade of
# plotly that changes it fails there with the new hash).
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-elem": [SELF, NONCE, *PLOTLY_STYLE_HASHES],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"  # where the file-based backend (the demo's) writes each message
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "vigil@localhost")

# REST framework: token for machines, session for the browser; everything needs a login.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Vigil's hashed tokens, joining whether the user is a service account (models_registry/api_permissions.py).
        "models_registry.api_permissions.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in; a service account only on the endpoints marked for its capabilities (the gate, pushing data).
    "DEFAULT_PERMISSION_CLASSES": ["models_registry.api_permissions.ServiceAccountLimits"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "governance.core.api.search.FieldErrorSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON nested absurdly deep is a 400 naming the body, never a 500 (governance/core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "governance.core.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "governance.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.core.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Model-risk governance: inventory, lifecycle, validation evidence, monitoring and the model gate.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its pages are for people signed in (a session or a token), as every other page: the API's own
    # default permission, so a service account, which may call only its endpoints, does not read it either.
    "SERVE_PERMISSIONS": ["models_registry.api_permissions.ServiceAccountLimits"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Names of their own for the skills' choice sets (issue 24) and the kill switch's scope, which they collide with.
    "ENUM_NAME_OVERRIDES": {
        "SkillDutyEnum": "governance.skills.models.Duty",
        "SkillKindEnum": "governance.skills.models.Requirement.Kind",
        "SkillScopeEnum": "governance.skills.models.Requirement.Scope",
        "SkillStatusEnum": "governance.skills.selectors.STATUSES",
        "KillSwitchScopeEnum": "risk.gate.models.KillSwitch.Scope",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.core.api.schema.add_error_responses",
    ],
}

# Celery: an SQLite-file broker needs no server; CELERY_BROKER_URL=redis://... or amqp://... in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Redis and SQS redeliver a message that a dead worker never acknowledged once this many seconds passed since
# it was delivered. It must exceed the longest validation run, or a slow run is started a second time (still
# harmless: the first to finish writes, the other changes nothing).
# Further broker options (JSON) merge over it, e.g. how often Redis looks for such messages:
# CELERY_BROKER_TRANSPORT_OPTIONS='{"unacked_restore_interval": 10, "unacked_restore_throttle": 10}'.
# Only Redis and SQS know a visibility timeout (the SQLAlchemy transport would hand it to create_engine).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **(
        {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)}
        if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://", "sqs://"))
        else {}
    ),
    **env_json_object("CELERY_BROKER_TRANSPORT_OPTIONS"),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
HEALTH_BROKER_TIMEOUT_SECONDS = env_int("VIGIL_HEALTH_BROKER_TIMEOUT", 3, minimum=1)

# --- Resource limits: what one upload, one validation and one task may cost a worker ------------------------
# Tables (evidence datasets, monitoring backfills) are refused beyond these, from Parquet's footer before any
# data is read, from a CSV's header and line count before it is parsed. Sized for the documented use (prediction
# logs of millions of rows, a few hundred features); a run reads only the columns it needs.
VIGIL_UPLOAD_MAX_ROWS = env_int("VIGIL_UPLOAD_MAX_ROWS", 20_000_000, minimum=1)
VIGIL_UPLOAD_MAX_COLUMNS = env_int("VIGIL_UPLOAD_MAX_COLUMNS", 500, minimum=1)
VIGIL_UPLOAD_MAX_DECOMPRESSED_MB = env_int("VIGIL_UPLOAD_MAX_DECOMPRESSED_MB", 4096, minimum=1)
# A validation run computes in a child process of its worker with this much memory (on top of what the worker
# held when it started it) and this much time; past either the child is stopped and the run fails, saying so,
# without a retry: a file that exhausts memory once will do so again.
VIGIL_VALIDATION_MEMORY_MB = env_int("VIGIL_VALIDATION_MEMORY_MB", 4096, minimum=1)
VIGIL_VALIDATION_TIME_LIMIT_SECONDS = env_int("VIGIL_VALIDATION_TIME_LIMIT_SECONDS", 3600, minimum=1)
# Celery tasks: soft limit (the task is told and records why it stopped), then the hard one (its process is
# killed). Jobs (validation runs, backfills, exports, monitor cycles) get longer ones than the short tasks
# (sweeps, outbox deliveries), as does the nightly audit-chain check. A prefork worker process is replaced after
# a task that left it above VIGIL_WORKER_MAX_MEMORY_MB resident (Celery counts KiB).
VIGIL_TASK_SOFT_TIME_LIMIT_SECONDS = env_int("VIGIL_TASK_SOFT_TIME_LIMIT_SECONDS", 600, minimum=1)
VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS = env_int("VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS", 3 * 3600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = VIGIL_TASK_SOFT_TIME_LIMIT_SECONDS
CELERY_TASK_TIME_LIMIT = VIGIL_TASK_SOFT_TIME_LIMIT_SECONDS + 60
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS, "time_limit": VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS + 300}
    for name in ("governance.run_job", "governance.verify_audit_chain", "risk.run_validation")
}
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("VIGIL_WORKER_MAX_MEMORY_MB", 2048, minimum=64) * 1024
# Jobs hold a lease while they run, renewed by their worker every VIGIL_JOB_HEARTBEAT_SECONDS; beat's "Jobs: take
# up the jobs of lost workers" (every 30 s, a migration's schedule) queues again a job whose lease ran out, so a job
# whose worker died is taken up within lease + 30 s (90 s by default), not the broker's hour.
VIGIL_JOB_LEASE_SECONDS = env_float("VIGIL_JOB_LEASE_SECONDS", 60.0, minimum=0.1)
VIGIL_JOB_HEARTBEAT_SECONDS = env_float("VIGIL_JOB_HEARTBEAT_SECONDS", 20.0, minimum=0.05)
if VIGIL_JOB_HEARTBEAT_SECONDS >= VIGIL_JOB_LEASE_SECONDS:
    raise ImproperlyConfigured("VIGIL_JOB_HEARTBEAT_SECONDS must be shorter than VIGIL_JOB_LEASE_SECONDS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"svg_properties": {"()": "vigil.log_filters.SvgPropertyWarnings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("VIGIL_LOG_LEVEL", "INFO")},
    # Font subsetting and PDF layout log every table they touch at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("fontTools", "weasyprint", "matplotlib", "bagit")},
}
LOGGING["loggers"]["weasyprint"]["filters"] = ["svg_properties"]
