"""The local OpenID Connect provider of the national login tests, for joining a log."""

from tests.national.conftest import national, provider_url  # noqa: F401
