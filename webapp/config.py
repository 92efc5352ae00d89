"""Configuration: defaults, then ``instance/config.py`` if present, then environment variables."""
from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import argon2

if TYPE_CHECKING:
    from webapp.engine.scripting import RunLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config(instance_path: Path) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{instance_path / 'ansvarsgruppe.db'}",
        "PROCESSES_DIR": str(PROJECT_ROOT / "processes"),
        "FORMS_DIR": str(PROJECT_ROOT / "forms"),
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # the login's server-side session ends a fixed time after login (auth.operations), so the
        # cookie is written when it changes, not signed anew on every response
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "nb",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
        "LANGUAGES": ["nb", "nn", "en"],
        # Bounds on what a diagram can make the engine do (DESIGN §5: authors are untrusted)
        "SCRIPT_TIME_LIMIT": 0.5,            # seconds one expression may take
        "ENGINE_MAX_DURATION_DAYS": 3700,    # longest timer or dueIn duration (about 10 years)
        "ENGINE_MAX_CYCLE_REPETITIONS": 1000,
        "ENGINE_MAX_CARDINALITY": 1000,      # instances of one multi-instance activity
        "ENGINE_MAX_STATE_BYTES": 2_000_000, # serialized size of one instance's state
        # argon2id cost of password hashes (argon2-cffi's defaults; the tests use the minimum)
        "PASSWORD_HASH_TIME_COST": argon2.DEFAULT_TIME_COST,
        "PASSWORD_HASH_MEMORY_COST": argon2.DEFAULT_MEMORY_COST,  # KiB
        "PASSWORD_HASH_PARALLELISM": argon2.DEFAULT_PARALLELISM,
        "WORKER_INTERVAL": 5.0,              # longest idle sleep (seconds); it wakes earlier when due
        "WORKER_BATCH": 500,                 # timers/starts/messages per round; rounds go on while due
        "WORKER_MIN_SLEEP": 0.2,             # shortest idle sleep (a row held by another worker)
        "ACCESS_LOG_FLUSH_SECONDS": 1.0,     # reads are logged in batches this often (0: at once)
        "REGISTER_FIGURES_SECONDS": 60.0,    # a year's figures are recomputed at most this often
        "SUPERVISION_COUNTS_SECONDS": 60.0,  # the cockpit's counts per rule and filter choices, likewise
        "SMTP_HOST": None,
        "SMTP_PORT": None,                   # default: 25, 587 with starttls, 465 with ssl
        "SMTP_SECURITY": "none",             # none | starttls | ssl
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_TIMEOUT": 20.0,                # seconds per SMTP network operation
        "MAIL_FROM": "ansvarsgruppe@localhost",
        "BASE_URL": "http://127.0.0.1:5000", # where links in e-mail point
        "DEMO": False,
        "START_WORKER": False,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        # Reverse proxies in front of the app: their X-Forwarded-For/-Proto give the client address
        # (login throttling) and https; 0 trusts no such header (README "Configuration")
        "TRUSTED_PROXIES": 0,
        "HSTS_MAX_AGE": 365 * 24 * 3600,  # sent on https responses
        "HSTS_ALWAYS": False,             # also on http ones (TLS ends at a proxy not trusted above)
        # OpenID Connect logins (README "Logins"): name -> settings; see OIDC_DEFAULTS
        "OIDC_PROVIDERS": {},
    }


#: the OpenID providers the app knows and their defaults: the municipality's own identity provider
#: for staff (matched by user name or e-mail), and ID-porten for the person and guardians (matched
#: by ``pid`` against the keyed digests of their national identity numbers; the token's ``acr`` must
#: be at least ``minimum_acr``, which ``acr_values`` also asks the provider for).
OIDC_DEFAULTS = {
    "staff": {"kind": "staff", "title": "Kommunens pålogging", "scope": "openid profile email",
              "username_claims": ["preferred_username", "email"]},
    "idporten": {"kind": "citizen", "title": "ID-porten", "scope": "openid profile",
                 "minimum_acr": "idporten-loa-substantial", "acr_values": "idporten-loa-substantial"},
}
#: assurance levels of ID-porten, lowest first
ACR_LEVELS = ("idporten-loa-low", "idporten-loa-substantial", "idporten-loa-high")


def oidc_from_environment() -> dict:
    """``ANSVARSGRUPPE_OIDC_<NAME>_METADATA_URL`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET`` (and
    optionally ``_MINIMUM_ACR``) for each NAME of ``OIDC_DEFAULTS`` (STAFF, IDPORTEN): the providers
    configured."""
    found = {}
    for name in OIDC_DEFAULTS:
        prefix = f"ANSVARSGRUPPE_OIDC_{name.upper()}_"
        if os.environ.get(prefix + "METADATA_URL") and os.environ.get(prefix + "CLIENT_ID"):
            found[name] = {"server_metadata_url": os.environ[prefix + "METADATA_URL"],
                           "client_id": os.environ[prefix + "CLIENT_ID"],
                           "client_secret": os.environ.get(prefix + "CLIENT_SECRET", "")}
            if os.environ.get(prefix + "MINIMUM_ACR"):
                found[name]["minimum_acr"] = os.environ[prefix + "MINIMUM_ACR"]
    return found


ENV_KEYS = {
    "DATABASE_URL": str, "SMTP_HOST": str, "SMTP_PORT": int, "MAIL_FROM": str,
    "SMTP_SECURITY": str, "SMTP_USERNAME": str, "SMTP_PASSWORD": str, "SMTP_TIMEOUT": float,
    "BASE_URL": str,
    "PROCESSES_DIR": str, "FORMS_DIR": str, "TRUSTED_PROXIES": int,
    "WORKER_INTERVAL": float, "WORKER_BATCH": int, "WORKER_MIN_SLEEP": float,
    "ACCESS_LOG_FLUSH_SECONDS": float, "REGISTER_FIGURES_SECONDS": float, "SUPERVISION_COUNTS_SECONDS": float,
}


def from_environment() -> dict:
    found: dict = {}
    for key, kind in ENV_KEYS.items():
        value = os.environ.get(key) or os.environ.get(f"ANSVARSGRUPPE_{key}")
        if value:
            found[key] = kind(value)
    if os.environ.get("ANSVARSGRUPPE_SECRET_KEY"):
        found["SECRET_KEY"] = os.environ["ANSVARSGRUPPE_SECRET_KEY"]
    if os.environ.get("ANSVARSGRUPPE_INSECURE_COOKIES") == "1":
        found["SESSION_COOKIE_SECURE"] = False
    if oidc_from_environment():
        found["OIDC_PROVIDERS"] = oidc_from_environment()
    return found


def run_limits(config) -> "RunLimits":
    """The engine's bounds from the configuration."""
    from webapp.engine.durations import TimerLimits
    from webapp.engine.expressions import DEFAULT_LIMITS
    from webapp.engine.scripting import RunLimits

    return RunLimits(
        expressions=replace(DEFAULT_LIMITS, max_seconds=float(config["SCRIPT_TIME_LIMIT"])),
        timers=TimerLimits(max_duration_days=int(config["ENGINE_MAX_DURATION_DAYS"]),
                           max_cycle_repetitions=int(config["ENGINE_MAX_CYCLE_REPETITIONS"])),
        max_cardinality=int(config["ENGINE_MAX_CARDINALITY"]),
        max_state_bytes=int(config["ENGINE_MAX_STATE_BYTES"]),
    )


def waitress_options(config) -> dict:
    """Options for waitress (``ansvarsgruppe serve``/``demo``): behind trusted proxies waitress
    must pass the X-Forwarded-* headers on to the app's ProxyFix instead of dropping them."""
    return {"clear_untrusted_proxy_headers": False} if int(config.get("TRUSTED_PROXIES") or 0) > 0 else {}


def secret_key(instance_path: Path) -> str:
    """A persistent random secret under instance/ (created on first use)."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
