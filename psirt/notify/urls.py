"""URLs of notifications. Public (namespace "notify", under the language prefix): /subscribe/, confirm and
manage links. The one-click unsubscribe (RFC 8058) lives outside the language prefix (`unsubscribe_urlpatterns`)
so a mail client's bare POST reaches it. Desk (namespace "desk:notify"): /desk/notify/…"""

from django.urls import path

from psirt.notify.views import desk as desk_views
from psirt.notify.views import public as views

public_urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("manage/<str:token>/", views.manage, name="manage"),
]

unsubscribe_urlpatterns = [
    path("subscribe/unsubscribe/<str:token>/", views.unsubscribe, name="notify_unsubscribe"),
]

desk_urlpatterns = [
    path("", desk_views.deliveries, name="deliveries"),
    path("deliveries/<uuid:public_id>/retry/", desk_views.retry, name="retry"),
    path("subscribers/", desk_views.subscribers, name="subscribers"),
    path("webhooks/", desk_views.webhooks, name="webhooks"),
    path("webhooks/<uuid:public_id>/toggle/", desk_views.webhook_toggle, name="webhook_toggle"),
    path("customers/", desk_views.customers, name="customers"),
    path("customers/import/", desk_views.customer_import, name="customer_import"),
    path("customers/notify/", desk_views.customer_notify, name="customer_notify"),
]
