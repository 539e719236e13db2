from django.urls import path

from psirt.accounts.views import audit, desk

# Included under /<lang>/desk/ with namespace "desk" (psirt/urls.py).
desk_urlpatterns = [
    path("", desk.desk_home, name="home"),
    path("users/", desk.users, name="users"),
    path("users/invite/", desk.user_invite, name="user_invite"),
    path("users/<uuid:public_id>/", desk.user_detail, name="user_detail"),
    path("users/<uuid:public_id>/role/", desk.user_role, name="user_role"),
    path("users/<uuid:public_id>/active/", desk.user_active, name="user_active"),
    path("users/<uuid:public_id>/reset-2fa/", desk.user_reset_mfa, name="user_reset_mfa"),
    path("users/<uuid:public_id>/resend-invitation/", desk.user_resend_invite, name="user_resend_invite"),
    path("tokens/", desk.tokens, name="tokens"),
    path("tokens/<str:key_id>/revoke/", desk.token_revoke, name="token_revoke"),
    path("audit/", audit.audit_log, name="audit"),
]
