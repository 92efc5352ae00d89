"""National identity numbers kept so that they can be matched without being shown.

An ID-porten login names its citizen by ``pid``, the national identity number. The person's and
each guardian's number is kept as an HMAC-SHA256 digest under a server key (``NATIONAL_ID_KEY``,
else derived from ``SECRET_KEY``): a login is matched by computing the digest of its ``pid``.
A plain hash would not do: there are only about 100,000 numbers per birth date, so anyone with
the table could try them all; without the key they cannot. The guardian's number is stored only
as this digest; the person's number is also kept as before (shown masked, for duplicates).
"""
from __future__ import annotations

import hashlib
import hmac
import re

_key: bytes | None = None

NATIONAL_ID = re.compile(r"^[0-9]{11}$")


def configure(secret: str | bytes) -> None:
    """Set the key (the app factory does, from ``NATIONAL_ID_KEY`` or ``SECRET_KEY``)."""
    global _key
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    _key = hmac.new(raw, b"ansvarsgruppe national id", hashlib.sha256).digest()


def digest(national_id: str | None) -> str | None:
    """The keyed digest of an 11-digit number (None for anything else)."""
    if not national_id or not NATIONAL_ID.match(national_id.strip()):
        return None
    if _key is None:
        raise RuntimeError("national id key not configured (create the app first)")
    return hmac.new(_key, national_id.strip().encode("ascii"), hashlib.sha256).hexdigest()
