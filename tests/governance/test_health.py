import pytest

from vigil.celery import app


@pytest.fixture
def broker_url():
    """Point the Celery app at another broker for one test, then restore it."""
    original = app.conf.broker_url

    def use(url):
        app.conf.broker_url = url

    yield use
    app.conf.broker_url = original


@pytest.mark.django_db
def test_it_reports_healthy_database_and_broker(client, broker_url, tmp_path):
    broker_url(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_it_is_down(client, broker_url):
    broker_url("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unreachable"}


@pytest.mark.django_db
def test_it_answers_503_naming_the_database_when_it_is_down(client, monkeypatch):
    from vigil import health

    monkeypatch.setattr(health, "check_broker", lambda: None)

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
