"""Intake URLs: the public form (/report/), the reporter portal (/r/<token>/) and the leads' inbox."""

from django.urls import URLPattern, URLResolver, path

from psirt.intake import views

public_urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report_form, name="report"),
    path("thanks/", views.report_thanks, name="thanks"),
    path("lost-link/", views.lost_link, name="lost_link"),
]
portal_urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", views.portal, name="home"),
]
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.inbox, name="inbox"),
    path("<uuid:public_id>/", views.desk_report, name="report"),
    path("<uuid:public_id>/files/<uuid:attachment_id>/", views.desk_attachment, name="attachment"),
]
