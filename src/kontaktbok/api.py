"""The open JSON API, version 1. OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI
from ninja.security import django_auth

from kontaktbok.absence.api import router as absence_router
from kontaktbok.core.api import CheckedParser, install_error_handlers
from kontaktbok.core.ratelimit import throttles
from kontaktbok.directory.api import router as directory_router
from kontaktbok.leave.api import router as leave_router
from kontaktbok.messaging.api import router as messaging_router
from kontaktbok.relaylog.api import router as relaylog_router
from kontaktbok.schools.api import router as schools_router

api = NinjaAPI(
    title="kontaktbok API",
    version="1",
    urls_namespace="api-1",
    auth=django_auth,
    docs_url=None,
    parser=CheckedParser(),
    # Every write counts against the api.write rate limit; operations add their own buckets.
    throttle=throttles(),
)
install_error_handlers(api)
api.add_router("/", schools_router)
api.add_router("/absence", absence_router)
api.add_router("/leave", leave_router)
api.add_router("/messages", messaging_router)
api.add_router("/directory", directory_router)
api.add_router("/relaylogs", relaylog_router)
