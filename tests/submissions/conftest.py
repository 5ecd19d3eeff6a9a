"""The local OpenID Connect provider of tests/national, for a sender who logs in with
ID-porten."""

from tests.national.conftest import national, provider_url  # noqa: F401
