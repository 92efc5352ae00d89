"""E-mail addresses: one rule for every place that accepts one (forms, the outbox, the sender).

email-validator checks the syntax only (``check_deliverability=False``: no DNS lookups). Line
breaks, several addresses, display names and the like are refused, so an address can never add a
header (``per@x.no\\r\\nBcc: …``) or a second recipient.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalised_address(value: object) -> str | None:
    """The normalised address if ``value`` is exactly one valid e-mail address, else None."""
    if not isinstance(value, str) or not value or value != value.strip() or len(value) > 254:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except (EmailNotValidError, ValueError):
        return None


def is_address(value: object) -> bool:
    return normalised_address(value) is not None


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def parse_domains(value: object) -> list[str]:
    """The municipality's own mail domains from a comma-separated setting (``"kommune.no, x.no"``)."""
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value or "").split(",")
    return [d.strip().lower().lstrip("@") for d in items if str(d).strip()]


def in_domains(address: str, domains: list[str]) -> bool:
    """True if the address's domain is one of ``domains`` or a subdomain of one."""
    domain = domain_of(address)
    return any(domain == d or domain.endswith("." + d) for d in domains)


def normalised_domains(raw: object) -> str | None:
    """A comma-separated list of mail domains, normalised (``"kommune.no, skole.kommune.no"``),
    or None if any item is not a valid domain. Empty is valid (no domain gets attachments)."""
    if not isinstance(raw, str) or len(raw) > 1000:
        return None
    domains = parse_domains(raw)
    checked = [normalised_address(f"postmaster@{d}") for d in domains]
    if any(c is None for c in checked):
        return None
    return ", ".join(domain_of(c) for c in checked)
