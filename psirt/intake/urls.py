"""Intake URLs: the public form (/report/), the reporter portal (/r/<token>/) and the leads' inbox."""

from django.urls import URLPattern, URLResolver, path

from psirt.intake.views import desk, portal, public

public_urlpatterns: list[URLPattern | URLResolver] = [
    path("", public.report_form, name="report"),
    path("thanks/", public.report_thanks, name="thanks"),
    path("lost-link/", public.lost_link, name="lost_link"),
]
portal_urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", portal.portal, name="home"),
    path("<str:token>/files/<uuid:attachment_id>/", portal.portal_file, name="file"),
]
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", desk.inbox, name="inbox"),
    path("<uuid:public_id>/", desk.desk_report, name="report"),
    path("<uuid:public_id>/files/<uuid:attachment_id>/", desk.desk_attachment, name="attachment"),
]
