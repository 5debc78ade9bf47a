"""The hub's Prometheus metrics: counted from real answers, readable only from this machine or
with the token."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.intake import Intake
from hub.metrics import ENV_TOKEN, HubMetrics, router
from hub.store import Store
from hub.worker import _answer
from tests.hub.kiosks import TOPICS, make_scan


def test_answers_are_counted_by_status_and_reason_and_kiosks_by_what_they_said(hub_db, tmp_path, monkeypatch):
    store = Store(hub_db)
    metrics = HubMetrics(store)
    intake = Intake(store)
    ada = store.add_person("Ada Lovelace")
    event = store.add_event("Camp", "2025-03-14")
    payloads = [make_scan("hall-1", event.id, ada.badge).to_json(),
                make_scan("hall-1", "no-such-event", ada.badge).to_json(), b"not json"]
    # The intake process's answers, as the ingest thread counts them
    for _, _, status, reason in _answer(intake, [(TOPICS.scan("hall-1"), p, "") for p in payloads]):
        metrics.answered(status, reason)
    store.record_kiosk_status("hall-1", "online", queued=7)
    monkeypatch.setenv(ENV_TOKEN, "s3cret-token")
    app = FastAPI()
    app.include_router(router(metrics))
    client = TestClient(app)
    assert client.get("/metrics").status_code == 403  # not this machine, and no token
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    text = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).text
    assert 'turnout_scans_total{status="accepted"} 1.0' in text
    assert 'turnout_scans_total{status="rejected"} 2.0' in text
    assert 'turnout_scans_rejected_total{reason="unknown event"} 1.0' in text
    assert 'turnout_scans_rejected_total{reason="not JSON"} 1.0' in text
    assert 'turnout_kiosk_queued_scans{kiosk="hall-1"} 7.0' in text
    assert "turnout_kiosks_online 1.0" in text
    store.close()
