"""Password hashing with argon2id.

The cost comes from the configuration (``PASSWORD_HASH_TIME_COST``, ``PASSWORD_HASH_MEMORY_COST``
in KiB, ``PASSWORD_HASH_PARALLELISM``; argon2-cffi's defaults unless set). ``create_app`` calls
:func:`configure`, so one process hashes with one cost. A stored hash made with another cost still
verifies and is replaced at the next successful login (``needs_rehash``).
"""
from __future__ import annotations

from typing import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def configure(config: Mapping) -> None:
    """Hash with the cost in ``config`` from now on."""
    global _hasher
    _hasher = PasswordHasher(time_cost=int(config["PASSWORD_HASH_TIME_COST"]),
                             memory_cost=int(config["PASSWORD_HASH_MEMORY_COST"]),
                             parallelism=int(config["PASSWORD_HASH_PARALLELISM"]))


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
