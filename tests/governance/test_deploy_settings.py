"""Production settings: HTTPS only (redirect, HSTS) with safe defaults, X-Forwarded-Proto believed only behind the
trusted proxies, `make run`'s plain-HTTP demo still served, and `manage.py check --deploy` with nothing to say."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "vigil.example.com",
    "VIGIL_TRUSTED_PROXY_COUNT": "1",
}
# What the Makefile's `run` target exports: the demo runs as production does, over plain HTTP on this machine.
MAKE_RUN = {**PRODUCTION, "DJANGO_DEBUG": "false", "DJANGO_SECURE_COOKIES": "false"}
OURS = ("DJANGO_", "VIGIL_")


def _settings(monkeypatch, tmp_path, env: dict) -> dict:
    """The settings module as a process started with exactly `env` (of Vigil's own variables) would read it."""
    for name in list(os.environ):
        if name.startswith(OURS):
            monkeypatch.delenv(name)
    for name, value in {**env, "VIGIL_VAR_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "vigil" / "settings.py"))


def test_production_is_https_only_by_default(monkeypatch, tmp_path):
    s = _settings(monkeypatch, tmp_path, PRODUCTION)
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is False  # the registered domain's owner decides
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert s["SECURE_REDIRECT_EXEMPT"] == [r"^health/$"]  # load balancers ask over plain HTTP


def test_each_is_set_from_the_environment(monkeypatch, tmp_path):
    s = _settings(
        monkeypatch,
        tmp_path,
        {**PRODUCTION, "DJANGO_HSTS_SECONDS": "600", "DJANGO_HSTS_PRELOAD": "true", "DJANGO_SSL_REDIRECT": "false"},
    )
    assert (s["SECURE_HSTS_SECONDS"], s["SECURE_HSTS_PRELOAD"], s["SECURE_SSL_REDIRECT"]) == (600, True, False)
    assert "security.W021" not in s["SILENCED_SYSTEM_CHECKS"]


def test_the_forwarded_scheme_is_believed_only_behind_trusted_proxies(monkeypatch, tmp_path):
    s = _settings(monkeypatch, tmp_path, {**PRODUCTION, "VIGIL_TRUSTED_PROXY_COUNT": "0"})
    assert s["SECURE_PROXY_SSL_HEADER"] is None


def test_make_run_serves_plain_http(monkeypatch, tmp_path):
    s = _settings(monkeypatch, tmp_path, MAKE_RUN)
    assert s["SECURE_SSL_REDIRECT"] is False and s["SECURE_HSTS_SECONDS"] == 0 and not s["SESSION_COOKIE_SECURE"]


def test_the_old_proxy_switch_is_refused_with_its_replacement(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="VIGIL_TRUSTED_PROXY_COUNT"):
        _settings(monkeypatch, tmp_path, {**PRODUCTION, "DJANGO_BEHIND_TLS_PROXY": "true"})


def test_check_deploy_has_nothing_to_say_about_production(tmp_path):
    # Several seconds: the deployment checks run in a process of their own (production's environment) and generate
    # the API schema (drf-spectacular checks it).
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "vigil.settings", "VIGIL_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={**env, **PRODUCTION},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # drf-spectacular's schema-naming hints (W001: enum and operation names in the API documentation) are about the
    # schema's names, not about the deployment; nothing else may be reported.
    issues = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("?:") or ": (" in line]
    assert [line for line in issues if "(drf_spectacular.W001)" not in line] == []
