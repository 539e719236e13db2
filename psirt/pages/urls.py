from django.urls import path

from psirt.pages.models import STANDALONE_PAGES
from psirt.pages.views import desk, public

public_urlpatterns = [
    path("", public.home, name="home"),
    *[path(f"{slug}/", public.page, {"slug": str(slug)}, name=str(slug)) for slug in STANDALONE_PAGES],
    path("pgp-key.asc", public.pgp_key, name="pgp_key"),
]

# The overview of software updates, included under /<lang>/updates/ in the "catalog" namespace next to the
# catalog's own product pages (psirt/urls.py).
updates_urlpatterns = [
    path("", public.updates, name="updates"),
]

desk_urlpatterns = [
    path("organization/", desk.organization_edit, name="organization"),
    path("pages/", desk.page_list, name="page_list"),
    path("pages/<slug:slug>/", desk.page_edit, name="page_edit"),
]
