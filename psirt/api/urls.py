"""The JSON API (django-ninja), mounted at /api/ (docs at /api/docs).

One router per app, registered below under /v1/…; domain exceptions become HTTP answers in one place,
`psirt.api.errors` (each app adds its base exception class there)."""

from ninja import NinjaAPI

from psirt.api import errors

api = NinjaAPI(
    title="psirt API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    description="Machine access to a psirt Security Response Center.",
)
errors.register(api)

# Routers are registered after the api exists (their modules may import it).
from psirt.api.cvss import router as cvss_router  # noqa: E402
from psirt.cases.api import router as cases_router  # noqa: E402
from psirt.intake.api import router as intake_router  # noqa: E402

api.add_router("/v1/cvss", cvss_router)
api.add_router("/v1/reports", intake_router)
api.add_router("/v1/cases", cases_router)

from psirt.api.advisories import router as advisories_router  # noqa: E402

api.add_router("/v1/affected", advisories_router)
