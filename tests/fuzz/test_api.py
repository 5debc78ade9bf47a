"""The hub's JSON API driven by its own OpenAPI schema (schemathesis, in-process through ASGI),
on a small sample season: no generated request, fitting the schema or not, gets a server error.

Whether each response follows the schema (every status declared, every body its model) is
checked too, but only reported, as a warning: the schema does not yet declare its 404s."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, strategies as st

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

from hub.sample import seed_sample  # noqa: E402
from hub.store import Store  # noqa: E402
from hub.web import WebSettings, create_web_app  # noqa: E402
from tests.fuzz.hostile import fuzz  # noqa: E402


class SchemaMismatch(UserWarning):
    """A response the OpenAPI schema does not describe."""


@pytest.fixture(scope="module")
def api_schema(hub_db_shared):
    store = Store(hub_db_shared)
    seed_sample(store, people=25, events=4)
    app = create_web_app(store, settings=WebSettings(stats_background=False, stats_min_interval=0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # Besides what schemathesis makes up, requests for badges and events that exist, so the
    # answers with data in them are checked against the schema too.
    badges = [p.badge for p in store.people(claimed=None)] + ["T5724", "t13"]
    events = [e.id for e in store.events()] + [store.events()[0].name, store.events()[0].series]
    known = st.one_of(
        st.sampled_from(badges).flatmap(lambda b: schema["/api/v1/people/{badge}"]["GET"].as_strategy(
            path_parameters={"badge": b})),
        st.sampled_from(events).flatmap(lambda e: schema["/api/v1/events/{event_id}"]["GET"].as_strategy(
            path_parameters={"event_id": e})),
        st.sampled_from(events).flatmap(lambda e: schema["/api/v1/events"]["GET"].as_strategy(
            query={"series": e})),
        st.sampled_from(["2024", "2025", "2026", "0000", "9999"]).flatmap(
            lambda y: schema["/api/v1/leaderboard"]["GET"].as_strategy(query={"season": y})))
    yield schema, {"fitting": schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
                   "not fitting": schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
                   "known ids": known}
    store.close()


def failed(case, response, check) -> str | None:
    """What the check says is wrong with this response, or None."""
    try:
        case.validate_response(response, checks=[check])
    except (AssertionError, BaseExceptionGroup) as found:  # one failure, or a group of them
        failures = getattr(found, "exceptions", (found,))
        return "; ".join(" ".join(str(f).split()) for f in failures)[:300]
    return None


@pytest.mark.parametrize("requests", ["fitting", "not fitting", "known ids"])
def test_no_request_gets_a_server_error(api_schema, requests):
    _, strategies = api_schema
    mismatches: dict[tuple[str, int, str], int] = {}

    @fuzz(30)
    @given(st.data())
    def one_request(data):
        case = data.draw(strategies[requests])
        response = case.call()
        problem = failed(case, response, not_a_server_error)
        assert problem is None, f"{case.method} {case.formatted_path} {case.query}: {problem}"
        for check in (status_code_conformance, response_schema_conformance):
            problem = failed(case, response, check)
            if problem:
                key = (f"{case.method} {case.operation.path}", response.status_code, problem)
                mismatches[key] = mismatches.get(key, 0) + 1

    one_request()
    for (where, status, problem), times in sorted(mismatches.items()):
        warnings.warn(f"{where} answered {status}, not as the schema says ({times}x): {problem}",
                      SchemaMismatch)
