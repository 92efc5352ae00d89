"""Password hashing with argon2id.

The cost comes from the configuration (``PASSWORD_HASH_TIME_COST``, ``PASSWORD_HASH_MEMORY_COST``
in KiB, ``PASSWORD_HASH_PARALLELISM``; argon2-cffi's defaults unless set). ``create_app`` calls
:func:`configure`, so one process hashes with one cost. A stored hash made with another cost still
verifies and is replaced at the next successful login (``needs_rehash``).

An unknown username is checked against a dummy hash made with the same hasher
(:func:`check_dummy`), so it takes as long to refuse as a wrong password for a known user.
"""
from __future__ import annotations

import secrets
from typing import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure(config: Mapping) -> None:
    """Hash with the cost in ``config`` from now on."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=int(config["PASSWORD_HASH_TIME_COST"]),
                             memory_cost=int(config["PASSWORD_HASH_MEMORY_COST"]),
                             parallelism=int(config["PASSWORD_HASH_PARALLELISM"]))
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a (verified) hash was made with another cost than the configured one."""
    return _hasher.check_needs_rehash(stored_hash)


def dummy_hash() -> str:
    """A hash of a random password with the configured cost (made once per configuration)."""
    global _dummy_hash
    if _dummy_hash is None or needs_rehash(_dummy_hash):
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def check_dummy(password: str) -> bool:
    """Verify ``password`` against the dummy hash: the same work as :func:`check_password` for
    a real user, always False."""
    check_password(dummy_hash(), password)
    return False
