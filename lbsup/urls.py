from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lbsup.core import two_factor_views
from lbsup.core import views as core_views
from lbsup.core.login import ThrottledLoginView

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health", core_views.health, name="health"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("account/two-factor/verify/", two_factor_views.two_factor_verify, name="two_factor_verify"),
    path("admin/", admin.site.urls),
    path("api/", include("lbsup.api.urls")),
    path("contact/", include("lbsup.intake.public_urls")),
    path("w/<slug:slug>/intake/", include("lbsup.intake.urls")),
    path("w/<slug:slug>/crm/", include("lbsup.crm.urls")),
    path("w/<slug:slug>/followups/", include("lbsup.followups.urls")),
    path("w/<slug:slug>/webhooks/", include("lbsup.webhooks.urls")),
    path("w/<slug:slug>/reports/", include("lbsup.reports.urls")),
    path("w/<slug:slug>/playbook/", include("lbsup.playbooks.urls")),
    path("w/<slug:slug>/desk/", include("lbsup.desk.urls")),
    path("w/<slug:slug>/", include("lbsup.tickets.urls")),
]
