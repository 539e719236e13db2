from django.urls import path

from psirt.accounts import views

desk_urlpatterns = [
    path("", views.desk_home, name="home"),
]
