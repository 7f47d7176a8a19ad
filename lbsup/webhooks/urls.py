from django.urls import path

from . import views

urlpatterns = [
    path("", views.endpoint_list, name="webhook_endpoints"),
    path("endpoints/<int:pk>/active/", views.endpoint_active, name="webhook_endpoint_active"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="webhook_delivery"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="webhook_delivery_retry"),
]
