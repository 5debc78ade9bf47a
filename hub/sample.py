"""A realistic sample season for demos and the web pages: a year of events, people, roles.

Deterministic for a given seed. Scans go through ``Intake`` exactly as a kiosk's would.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import date, timedelta

from hub.intake import Intake, Message
from hub.store import Store
from turnout.protocol import Scan, Topics

FIRST_NAMES = [
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Ella", "Poppy", "Evie",
    "Sophie", "Ruby", "Aisha", "Priya", "Niamh", "Siobhan", "Rhiannon", "Megan", "Harriet", "Zara",
    "Oliver", "George", "Noah", "Arthur", "Harry", "Jack", "Leo", "Oscar", "Alfie", "Charlie",
    "Rhys", "Callum", "Euan", "Hamish", "Dylan", "Owen", "Mohammed", "Arjun", "Kwame", "Tomasz",
]
SURNAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
    "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
    "Morgan", "Allen", "Khan", "Begum", "Okafor", "Nowak", "MacDonald", "O'Neill", "Ahmed",
]
ORGANISATIONS = [
    "Leeds City Council", "Bristol City Council", "Manchester City Council",
    "Kirklees Council", "Cardiff Council", "Glasgow City Council", "Norfolk County Council",
    "Leeds Teaching Hospitals NHS Trust", "Manchester University NHS Foundation Trust",
    "North Bristol NHS Trust", "NHS Digital", "Citizens Advice", "Age UK", "Shelter",
    "Mind", "The Trussell Trust", "mySociety", "Open Data Institute", "Local Government Association",
    "Government Digital Service", "Code for Leeds", "Friends of the Earth",
]
SERIES = [
    ("LocalGovCamp North", ["Leeds Central Library", "Manchester Town Hall", "Sheffield Winter Garden"]),
    ("CityCamp Bristol", ["Watershed, Bristol", "M Shed, Bristol"]),
    ("NHS Hack Day", ["Cardiff University", "Birmingham Library"]),
]
AFTER = ["The Victoria, Leeds", "The Old Duke, Bristol", "Sandinista, Manchester", "Tiny Rebel, Cardiff"]
OUTCOMES = [
    ("project", "A shared map of warm spaces",
     "Three councils and two charities pooled their lists of warm spaces into one open map."),
    ("service", "Bin collection letters rewritten in plain English",
     "A session on confusing letters led the waste team to rewrite them with residents."),
    ("collaboration", "Two NHS trusts share their volunteer rota tool",
     "People who met over cake found they were building the same thing, and now build it once."),
    ("project", "Open data on public toilets",
     "A pitch became a monthly open dataset of public toilets and their opening hours."),
]


def seed_sample(store: Store, seed: int = 2025, people: int = 120, events: int = 12,
                start: date | None = None) -> dict[str, int]:
    """Fill a store with a sample season; returns what was made."""
    rng = random.Random(seed)
    topics = Topics()
    intake = Intake(store, topics)
    # The season ends a fortnight ago, so this year and last year both have events.
    start = start or date.today() - timedelta(days=30 * events - 10)
    badges, regularity, juniors = [], {}, set()
    used = set()
    for _ in range(people):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        while name in used:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        used.add(name)
        junior = rng.random() < 0.08
        person = store.add_person(
            name, junior=junior,
            org=None if junior or rng.random() < 0.15 else rng.choice(ORGANISATIONS),
            email=f"{name.lower().replace(' ', '.').replace(chr(39), '')}@example.org",
            consent=rng.choices(["initial", "full", "hidden"], [70, 25, 5])[0],
            results_email=len(badges) % 3 == 0)  # a third asked for results emails (no rng: same sample)
        badges.append(person.badge)
        # A few regulars come to nearly everything; most come now and then.
        regularity[person.badge] = rng.choice([0.95, 0.9, 0.85]) if rng.random() < 0.15 else rng.uniform(0.08, 0.5)
        if junior:
            juniors.add(person.badge)
            regularity[person.badge] = max(regularity[person.badge], 0.6)
    helpers = [b for b in badges if regularity[b] > 0.8][:6]
    kiosks = ["door-1", "door-2"]
    for k in kiosks:
        store.add_kiosk(k)
    made_events, made_scans = [], 0
    for n in range(events):
        series, venues = SERIES[n % len(SERIES)]
        day = start + timedelta(days=30 * n + rng.randint(0, 6))
        event = store.add_event(f"{series} {day:%B %Y}", day.isoformat(), series=series,
                                venue=rng.choice(venues), after_venue=rng.choice(AFTER),
                                hashtag=f"#{series.replace(' ', '')}{day:%y%m}",
                                notes_url=f"https://notes.example.org/{series.replace(' ', '-').lower()}/{day:%Y-%m}",
                                cost_pence=rng.randint(20, 90) * 1000,
                                openness=_openness(rng, n, events))
        made_events.append(event)
        if n % 3 == 1:
            kind, title, story = OUTCOMES[(n // 3) % len(OUTCOMES)]
            store.add_outcome(event.id, kind, title, story)
        came = [b for b in badges if rng.random() < regularity[b]]
        messages, seq = [], 0
        for badge in came:
            roles = ["attend"]
            if badge in helpers:
                roles.append(rng.choice(["organise", "tidy", "cake"]))
            elif rng.random() < 0.12:
                roles.append(rng.choice(["pitch", "cake", "tidy"]))
            for role in roles:
                seq += 1
                kiosk = rng.choice(kiosks)
                scan = Scan(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), kiosk=kiosk,
                            event=event.id, badge=badge, role=role, ts=f"{day.isoformat()}T09:{seq % 60:02d}:00Z",
                            seq=seq, clock_ok=True)
                messages.append(Message(topics.scan(kiosk), scan.to_json(), f"{day.isoformat()}T09:30:00Z"))
        quiet = logging.getLogger("turnout.hub")
        level, quiet.level = quiet.level, logging.WARNING  # a line per sample scan helps nobody
        try:
            intake.receive_batch(messages)
        finally:
            quiet.setLevel(level)
        made_scans += len(messages)
    store.assign_kiosk(kiosks[0], made_events[-1].id)
    store.recompute()
    for event in made_events:  # held before: their results emails went at the time
        store.close_event(event.id)
        store.queue_emails(event.id, [])
    # Two events still to come, for the home page and the calendar feed.
    for n, ahead in enumerate((12, 40)):
        series, venues = SERIES[(events + n) % len(SERIES)]
        day = date.today() + timedelta(days=ahead)
        store.add_event(f"{series} {day:%B %Y}", day.isoformat(), series=series, venue=venues[0],
                        after_venue=AFTER[n], hashtag=f"#{series.replace(' ', '')}{day:%y%m}",
                        notes_url=f"https://notes.example.org/{series.replace(' ', '-').lower()}/{day:%Y-%m}")
    return {"people": people, "events": events, "scans": made_scans}


def _openness(rng: random.Random, n: int, events: int) -> list[str]:
    """Organisers' ticks, more open as the season goes on (each star builds on the last)."""
    from hub.openness import TICKS

    reach = max(0, min(len(TICKS), 1 + (4 * n) // max(1, events - 1) + rng.choice([-1, 0, 0])))
    ticks = list(TICKS[:reach])
    if reach < len(TICKS) and rng.random() < 0.3:
        ticks.append(TICKS[reach + 1] if reach + 1 < len(TICKS) else TICKS[-1])
    return ticks
