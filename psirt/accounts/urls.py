from django.urls import path

from psirt.accounts import views
from psirt.audit import views as audit_views

# Included under /<lang>/desk/ with namespace "desk" (psirt/urls.py).
desk_urlpatterns = [
    path("", views.desk_home, name="home"),
    path("users/", views.users, name="users"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<uuid:public_id>/", views.user_detail, name="user_detail"),
    path("users/<uuid:public_id>/role/", views.user_role, name="user_role"),
    path("users/<uuid:public_id>/active/", views.user_active, name="user_active"),
    path("users/<uuid:public_id>/reset-2fa/", views.user_reset_mfa, name="user_reset_mfa"),
    path("users/<uuid:public_id>/resend-invitation/", views.user_resend_invite, name="user_resend_invite"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<str:key_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", audit_views.audit_log, name="audit"),
]
