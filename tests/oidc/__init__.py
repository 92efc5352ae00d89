"""A real OpenID Connect provider for the tests (see ``tests/oidc/provider.py``)."""
