"""The JSON API (django-ninja), mounted at /api/ (docs at /api/docs). Each app adds its router here."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="psirt API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    description="Machine access to a psirt Security Response Center.",
)

from psirt.api.cvss import router as cvss_router  # noqa: E402  (routers are registered after the api exists)

api.add_router("/v1/cvss", cvss_router)
