from django.urls import path

from governance.core import views

app_name = "governance"

urlpatterns = [
    path("policy/", views.policy, name="policy"),
    path("account/two-factor/", views.TwoFactorView.as_view(), name="two-factor"),
    path("auditor-access/", views.auditor_access, name="auditor-access"),
    path("account/tokens/", views.api_tokens_page, name="api-tokens"),
]
