from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("tokens/", views.token_list, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="api_token_revoke"),
    path("", api.urls),
]
