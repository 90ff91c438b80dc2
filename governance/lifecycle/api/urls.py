from django.urls import re_path

from governance.lifecycle.api.views import VersionTransitionView
from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX

urlpatterns = [
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/transitions/$",
        VersionTransitionView.as_view(),
        name="version-transitions",
    ),
]
