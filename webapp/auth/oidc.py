"""Logins through OpenID Connect (Authlib's Flask client): the municipality's identity provider
for staff, and ID-porten for the person and guardians (citizens, who land on their own pages).

Configuration (``OIDC_PROVIDERS``, from ``instance/config.py`` or the environment, README
"Logins"): per provider name (``staff``, ``idporten``) its discovery URL, client id and secret;
the rest comes from ``config.OIDC_DEFAULTS``. Authlib checks the ID token: signature against the
provider's keys, issuer, audience, expiry, nonce and state (PKCE S256 on the code exchange).

Who the token is (staff): an active staff account whose user name or e-mail is the token's
``preferred_username`` or ``email``; no account is made here (administrators make them), so a
token that matches no one gets a clear page and nothing is stored.

Who the token is (citizen, ID-porten): the ID token's ``acr`` must be at least the provider's
``minimum_acr``; its ``pid`` (the national identity number) is matched by its keyed digest
(``cases.identity``) against the person of a group and its guardians
(``portal.operations.link_citizen``), which makes or links the citizen account. A ``pid`` that
matches no one gets a clear page and nothing is stored.
"""
from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from webapp.config import ACR_LEVELS, OIDC_DEFAULTS

@dataclass(frozen=True)
class Provider:
    name: str
    kind: str  # staff | citizen
    title: str
    settings: dict

    @property
    def minimum_acr(self) -> str | None:
        return self.settings.get("minimum_acr")

    def acr_ok(self, acr: str | None) -> bool:
        """The token's assurance level is at least the minimum (ID-porten's levels, in order)."""
        if not self.minimum_acr:
            return True
        if acr not in ACR_LEVELS or self.minimum_acr not in ACR_LEVELS:
            return False
        return ACR_LEVELS.index(acr) >= ACR_LEVELS.index(self.minimum_acr)


def init_app(app: Flask) -> None:
    """Register the configured providers with Authlib's client, one registry per app."""
    oauth = OAuth(app)
    app.extensions["ansvarsgruppe_oidc"] = oauth
    for name, settings in providers_of(app).items():
        oauth.register(
            name, client_id=settings.settings["client_id"], client_secret=settings.settings.get("client_secret"),
            server_metadata_url=settings.settings["server_metadata_url"],
            client_kwargs={"scope": settings.settings["scope"], "code_challenge_method": "S256",
                           "token_endpoint_auth_method": settings.settings.get("token_endpoint_auth_method",
                                                                                "client_secret_post")})


def providers_of(app: Flask) -> dict[str, Provider]:
    found = {}
    for name, configured in (app.config.get("OIDC_PROVIDERS") or {}).items():
        if name not in OIDC_DEFAULTS or not configured.get("client_id") or not configured.get("server_metadata_url"):
            continue
        settings = {**OIDC_DEFAULTS[name], **configured}
        if configured.get("minimum_acr") and not configured.get("acr_values"):
            settings["acr_values"] = configured["minimum_acr"]  # ask for the level that is required
        found[name] = Provider(name, settings["kind"], settings["title"], settings)
    return found


def provider_origins(app: Flask) -> list[str]:
    """The origins of the configured providers (scheme://host[:port])."""
    from urllib.parse import urlsplit
    origins = []
    for provider in providers_of(app).values():
        parts = urlsplit(provider.settings["server_metadata_url"])
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))


def providers() -> dict[str, Provider]:
    return providers_of(current_app)


def client(name: str):
    return current_app.extensions["ansvarsgruppe_oidc"].create_client(name)
