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
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "BABEL_DEFAULT_LOCALE": "nb",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Oslo",
        "LANGUAGES": ["nb", "en"],
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
        "WORKER_INTERVAL": 5.0,
        "SMTP_HOST": None,
        "SMTP_PORT": 25,
        "MAIL_FROM": "ansvarsgruppe@localhost",
        "DEMO": False,
        "START_WORKER": False,
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    }


ENV_KEYS = {
    "DATABASE_URL": str, "SMTP_HOST": str, "SMTP_PORT": int, "MAIL_FROM": str,
    "PROCESSES_DIR": str, "FORMS_DIR": str,
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


def secret_key(instance_path: Path) -> str:
    """A persistent random secret under instance/ (created on first use)."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
