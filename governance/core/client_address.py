"""The client's address, one rule for everything that records or counts it: the audit trail's request context and
login throttling (django-axes calls `client_ip` through AXES_CLIENT_IP_CALLABLE).

Behind N reverse proxies that each append the address they received the request from to X-Forwarded-For, the
client is the Nth entry from the right: the entries to its left were written by the client and prove nothing.
VIGIL_TRUSTED_PROXY_COUNT says N; 0 (no proxy) trusts only the connection's own address (REMOTE_ADDR)."""

import ipaddress

from django.conf import settings


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    trusted = settings.VIGIL_TRUSTED_PROXY_COUNT
    if not trusted:
        return remote
    # Several X-Forwarded-For headers arrive joined by commas (WSGI), in order.
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        # Fewer entries than proxies: the request did not come through them all (or they are misconfigured), so
        # every entry may be the client's own writing; the connection's address is the only fact.
        return remote
    # A trusted proxy writes a valid address; anything else is a misconfiguration, and the connection is a fact.
    return _address(hops[-trusted]) or remote
