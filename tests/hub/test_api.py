"""The JSON API through FastAPI's test client, on a store filled through the intake."""

import pytest
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.intake import Intake
from hub.store import Store
from tests.hub.kiosks import TOPICS, make_scan


@pytest.fixture
def hub(hub_db, tmp_path):
    store = Store(hub_db)
    yield store, Intake(store), TestClient(create_app(store))
    store.close()


def scan(intake, *args, **kw):
    return intake.receive(TOPICS.scan("hall-1"), make_scan("hall-1", *args, **kw).to_json()).ack


def test_person_progress(hub):
    store, intake, client = hub
    ada = store.add_person("Ada Lovelace", consent="full")
    events = [store.add_event(f"Camp {n}", f"2025-0{n + 1}-01", series="LGC") for n in range(3)]
    for e in events:
        scan(intake, e.id, ada.badge)
    scan(intake, events[0].id, ada.badge, role="cake")
    body = client.get(f"/api/v1/people/{ada.badge}").json()
    assert body == {"badge": ada.badge, "name": "Ada Lovelace", "points": 5, "attended": 3,
                    "volunteered": 1, "roles": {"cake": 1}, "milestones": [],
                    "next_milestone": {"name": "volunteer 10 club", "kind": "volunteer",
                                       "target": 10, "to_go": 9}}
    assert client.get("/api/v1/people/T5724").status_code == 404


def test_milestones_carry_date_and_event(hub):
    store, intake, client = hub
    kid = store.add_person("Sam Patel", junior=True)
    events = [store.add_event(f"Camp {n}", f"2025-01-{n + 1:02d}") for n in range(10)]
    for e in events:
        scan(intake, e.id, kid.badge)
    body = client.get(f"/api/v1/people/{kid.badge}").json()
    assert body["name"] == "Sam P."  # first name and initial by default
    assert body["milestones"] == [{"name": "junior 10 club", "reached_on": "2025-01-10",
                                   "event": events[9].id}]


def test_leaderboard_by_points_and_filters(hub):
    store, intake, client = hub
    a, b, hidden = (store.add_person("Ada Lovelace"), store.add_person("Bob Smith"),
                    store.add_person("Private Person", consent="hidden"))
    e24 = store.add_event("Old", "2024-06-01", series="LGC")
    e25 = store.add_event("New", "2025-06-01", series="CityCamp")
    for p in (a, b, hidden):
        scan(intake, e25.id, p.badge)
    scan(intake, e25.id, b.badge, role="organise")
    scan(intake, e24.id, a.badge)
    rows = client.get("/api/v1/leaderboard").json()
    assert [(r["name"], r["points"]) for r in rows] == [("Bob S.", 6), ("Ada L.", 2)]
    assert set(rows[0]) == {"badge", "name", "points", "attended", "volunteered"}
    assert [r["points"] for r in client.get("/api/v1/leaderboard?season=2024").json()] == [1]
    assert [r["name"] for r in client.get("/api/v1/leaderboard?series=CityCamp").json()] == ["Bob S.", "Ada L."]
    assert len(client.get("/api/v1/leaderboard?limit=1").json()) == 1
    assert client.get("/api/v1/leaderboard?season=last").status_code == 400


def test_the_leaderboard_answers_from_the_shared_statistics_and_caps_its_length(hub, monkeypatch):
    """Rule: a public list costs the same however it is asked. It used to score every row's
    person afresh from their scans: a thousand rows, a thousand scorings per request."""
    store, intake, client = hub
    event = store.add_event("Camp", "2025-06-01")
    people = [store.add_person(f"Person {n}") for n in range(30)]
    for p in people:
        scan(intake, event.id, p.badge)
    expected = [(p.badge, s.points) for p, s in store.leaderboard(limit=None)]

    def scoring_a_person_afresh(*args, **kwargs):
        raise AssertionError("the leaderboard scored a person afresh")

    monkeypatch.setattr(Store, "standing", scoring_a_person_afresh)
    rows = client.get("/api/v1/leaderboard?limit=1000").json()
    assert [(r["badge"], r["points"]) for r in rows] == expected
    assert client.get("/api/v1/leaderboard?limit=1001").status_code == 400


def test_event_with_everyone_present_and_roles(hub):
    store, intake, client = hub
    a, b = store.add_person("Ada Lovelace"), store.add_person("Bob Smith")
    first = store.add_event("First", "2025-01-01")
    second = store.add_event("Second", "2025-02-01", venue="Leeds")
    scan(intake, first.id, a.badge)
    scan(intake, second.id, a.badge)
    scan(intake, second.id, a.badge, role="tidy")
    scan(intake, second.id, b.badge, role="cake")
    body = client.get(f"/api/v1/events/{second.id}").json()
    assert body["venue"] == "Leeds" and body["attended"] == 2 and body["not_shown"] == 0
    assert body["present"] == [
        {"badge": a.badge, "name": "Ada L.", "roles": ["attend", "tidy"], "first_time": False},
        {"badge": b.badge, "name": "Bob S.", "roles": ["cake"], "first_time": True}]
    assert body["roles"] == {"attend": 1, "cake": 1, "tidy": 1}
    assert client.get("/api/v1/events/nope").status_code == 404
    assert [e["id"] for e in client.get("/api/v1/events").json()] == [first.id, second.id]


def test_an_events_roll_lists_only_people_who_agreed_to_be_shown_and_counts_the_rest(hub):
    store, intake, client = hub
    ada = store.add_person("Ada Lovelace")
    cat = store.add_person("Cat Cole", consent="hidden")
    [blank] = store.add_blank_badges(1)  # handed out at the door, not claimed yet
    event = store.add_event("Camp", "2025-01-01")
    for badge in (ada.badge, cat.badge, blank):
        scan(intake, event.id, badge)
    scan(intake, event.id, cat.badge, role="cake")
    body = client.get(f"/api/v1/events/{event.id}").json()
    assert [p["badge"] for p in body["present"]] == [ada.badge]
    assert cat.badge not in str(body) and blank not in str(body)
    assert (body["attended"], body["not_shown"], body["roles"]) == (3, 2, {"attend": 3, "cake": 1})
    # The event's web page tells the same story.
    from hub.web import create_web_app
    page = TestClient(create_web_app(store)).get(f"/events/{event.id}").text
    assert cat.badge not in page and blank not in page and "And 2 people who chose not to be named" in page
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "not_shown" in schema["EventOut"]["required"] and schema["PresentOut"]["properties"]["name"]["type"] == "string"


def test_kiosks_and_openapi(hub):
    store, intake, client = hub
    intake.receive_status(TOPICS.status("hall-1"), b'{"v":1,"state":"offline","version":"0.1","queued":2}')
    [k] = client.get("/api/v1/kiosks").json()
    assert (k["id"], k["state"], k["queued"]) == ("hall-1", "offline", 2) and k["last_seen"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/people/{badge}", "/api/v1/leaderboard", "/api/v1/events/{event_id}",
            "/api/v1/kiosks"} <= set(paths)


def test_api_docs_page_works_offline(hub_db, tmp_path):
    """/docs is self-contained: no Swagger UI from a CDN, so it shows on a venue network."""
    from fastapi.testclient import TestClient

    from hub.api import create_app
    from hub.store import Store
    client = TestClient(create_app(Store(hub_db)))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/v1/people/{badge}" in page.text and "<script" not in page.text
    assert "http" not in page.text.split("<body>")[1], "nothing loaded from elsewhere"


def test_a_missing_badge_or_event_is_a_404_with_its_body_as_the_schema_says(hub):
    store, intake, client = hub
    answer = client.get("/api/v1/people/T5724")
    assert answer.status_code == 404 and answer.json() == {"detail": "no registered badge T5724"}
    assert client.get("/api/v1/events/nope").json() == {"detail": "no event nope"}
    operations = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/people/{badge}", "/api/v1/events/{event_id}"):
        declared = operations[path]["get"]["responses"]["404"]["content"]["application/json"]
        assert declared["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
        assert declared["example"]["detail"]


def test_every_status_an_endpoint_can_return_is_declared_with_an_example(hub):
    """schemathesis found 404s the schema did not declare; 400 and 429 were not there either."""
    from hub.web import create_web_app

    store, intake, client = hub
    schema = TestClient(create_web_app(store)).get("/openapi.json").json()  # the badges' API too
    assert "/api/v1/verify" in schema["paths"]
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            responses = operation["responses"]
            assert {"200", "400", "429"} <= set(responses), (method, path)
            assert "422" not in responses, "a value the API cannot use is a 400 here"
            assert responses["429"]["headers"]["Retry-After"]
            if "{" in path:
                assert "404" in responses, path
    models = schema["components"]["schemas"]
    assert "HTTPValidationError" not in models
    for name in ("PersonOut", "LeaderboardRow", "EventOut", "EventSummaryOut", "KioskOut",
                 "ErrorOut", "BadRequestOut"):
        assert models[name]["examples"], name


def test_a_query_or_path_value_the_api_cannot_use_is_a_clear_400(hub):
    store, intake, client = hub
    answer = client.get("/api/v1/leaderboard?season=abcd&limit=5000")
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] == ("season must be a calendar year, like 2025; "
                              "limit must be a whole number from 1 to 1000")
    assert body["problems"] == [
        {"parameter": "season", "location": "query", "problem": "season must be a calendar year, like 2025"},
        {"parameter": "limit", "location": "query", "problem": "limit must be a whole number from 1 to 1000"}]
    answer = client.get("/api/v1/people/not-a-badge")
    assert answer.status_code == 400 and answer.json()["problems"][0]["location"] == "path"
    assert client.get("/api/v1/events?series=" + "x" * 201).status_code == 400


def test_too_many_requests_from_one_address_get_a_429_with_retry_after(hub_db, tmp_path):
    """Every outside input is bounded, the rate of API requests too."""
    from hub.ratelimit import RateLimit

    store = Store(hub_db)
    now = [0.0]
    client = TestClient(create_app(store, rate_limit=RateLimit(burst=5, per_second=1,
                                                               clock=lambda: now[0])))
    assert [client.get("/api/v1/kiosks").status_code for _ in range(5)] == [200] * 5
    refused = client.get("/api/v1/events")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json() == {"detail": "too many requests from your address: try again in 1 second"}
    assert client.get("/openapi.json").status_code == 200, "the schema and /docs are not counted"
    now[0] += 1
    assert client.get("/api/v1/events").status_code == 200
