from django.urls import path, re_path

from governance import web
from models_registry.api.views import MODEL_KEY_REGEX, VERSION_REGEX

app_name = "governance"
KV = rf"models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})"

urlpatterns = [
    re_path(rf"^{KV}/transition/$", web.version_transition, name="version-transition"),
    re_path(rf"^{KV}/evidence/$", web.evidence_upload, name="evidence-upload"),
    re_path(rf"^{KV}/findings/$", web.finding_raise, name="finding-raise"),
    re_path(r"^evidence/(?P<pk>[0-9]{1,18})/download/$", web.evidence_download, name="evidence-download"),
    re_path(rf"^models/(?P<key>{MODEL_KEY_REGEX})/risks/$", web.model_risk_add, name="risk-add"),
    re_path(
        rf"^models/(?P<key>{MODEL_KEY_REGEX})/attestations/(?P<pk>[0-9]{{1,18}})/sign/$",
        web.attestation_sign_view,
        name="attestation-sign",
    ),
    path("findings/", web.finding_list, name="finding-list"),
    re_path(r"^findings/(?P<pk>[0-9]{1,18})/$", web.finding_detail, name="finding-detail"),
    path("inbox/", web.inbox, name="inbox"),
    path("policy/", web.policy, name="policy"),
]
