import pytest
from django.core.exceptions import ImproperlyConfigured

from vigil.env import env_bool, env_int, env_json_object, env_list


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["flase", "2", "tru", "enabled"])
def test_it_rejects_malformed_booleans(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_it_uses_defaults_and_rejects_bad_numbers_and_lists(monkeypatch):
    monkeypatch.delenv("X_NUM", raising=False)
    assert env_int("X_NUM", 7) == 7
    monkeypatch.setenv("X_NUM", "seven")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_NUM", 7)
    monkeypatch.setenv("X_NUM", "-1")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_NUM", 7, minimum=0)
    monkeypatch.setenv("X_HOSTS", "a.example, b.example")
    assert env_list("X_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_HOSTS", "a.example,,b")
    with pytest.raises(ImproperlyConfigured):
        env_list("X_HOSTS", [])


@pytest.mark.parametrize(
    "raw,expected", [("", {}), ('{"unacked_restore_interval": 2}', {"unacked_restore_interval": 2})]
)
def test_it_reads_json_objects(monkeypatch, raw, expected):
    monkeypatch.setenv("X_JSON", raw)
    assert env_json_object("X_JSON") == expected


@pytest.mark.parametrize("raw", ["{unquoted: 1}", "[1, 2]", "3"])
def test_it_rejects_json_that_is_not_an_object(monkeypatch, raw):
    monkeypatch.setenv("X_JSON", raw)
    with pytest.raises(ImproperlyConfigured, match="X_JSON"):
        env_json_object("X_JSON")


def test_it_refuses_to_start_without_a_secret_key_outside_debug(tmp_path):
    import subprocess
    import sys

    # As gunicorn would load it: the WSGI application, without manage.py's development allowance.
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "vigil.settings", "DJANGO_DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "-c", "import vigil.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
    env["DJANGO_DEBUG"] = "flase"
    result = subprocess.run(
        [sys.executable, "-c", "import vigil.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert result.returncode != 0 and "DJANGO_DEBUG" in result.stderr


def test_an_s3_bucket_setting_moves_evidence_to_object_storage():
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES['default']))"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "vigil.settings",
        "DJANGO_DEBUG": "true",
        "VIGIL_EVIDENCE_S3_BUCKET": "evidence",
        "VIGIL_EVIDENCE_S3_ENDPOINT_URL": "https://minio.internal:9000",
    }
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    storage = json.loads(out.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "evidence"
    assert storage["OPTIONS"]["endpoint_url"] == "https://minio.internal:9000"
    assert storage["OPTIONS"]["file_overwrite"] is False
