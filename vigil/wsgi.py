import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigil.settings")
django_application = get_wsgi_application()

# The gate's answers to trading systems replay the full stack's own while nothing they depend on has moved
# (risk/gate/fast_lane.py); every other request, and any doubt, goes straight to Django.
from risk.gate.fast_lane import FastLane  # noqa: E402 - needs the apps loaded by get_wsgi_application()

application = FastLane(django_application)
