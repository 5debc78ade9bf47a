"""``turnout-hub``: register people, events and kiosks, and run the hub. A thin layer over Store.

Commands that create something print its badge code or id as the last thing on stdout, so
scripts can use ``$(turnout-hub person add "Ada Lovelace" | tail -n1)``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hub import __version__
from hub.config import HubConfig, load_config
from hub.people import CONSENTS, DEFAULT_CONSENT
from hub.rules import load_rules
from hub.storage.database import redacted
from hub.store import NotFound, Person, Store
from turnout import logs
from turnout.i18n import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger("turnout.hub")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        config = load_config(args.config).with_options(db=args.db, rules=getattr(args, "rules", None),
                                                       broker_dir=args.broker_dir)
        logs.setup(getattr(logging, config.log_level.upper(), logging.INFO))
        if getattr(args, "own_databases", False):  # migrate-db opens the two it is given
            return args.run(None, config, args) or 0
        store = Store(config.db_path, rules=load_rules(config.rules or None))
        return args.run(store, config, args) or 0
    except (ValueError, NotFound, LookupError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):  # `turnout-hub person list | head`: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush
            return 0
        print(f"turnout-hub: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="turnout-hub", description="The Turnout hub.")
    p.add_argument("--db", help="a SQLite database file (default: your user data directory), or a"
                   " PostgreSQL URL: postgresql://USER@HOST/DATABASE")
    p.add_argument("--config", help="hub.toml settings file")
    p.add_argument("--rules", help="rules TOML: clubs, and the roles a new hub starts with (give the"
                   " same one to every command, or set it in hub.toml)")
    p.add_argument("--broker-dir", help="the broker configuration `broker-config` wrote (or broker_dir"
                   " in hub.toml): kiosk logins, and the hub's own")
    p.add_argument("--version", action="version", version=f"turnout-hub {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    person = sub.add_parser("person", help="register and look up people").add_subparsers(metavar="ACTION")
    add = person.add_parser("add", help="register a person; prints their badge code")
    _person_options(add)
    add.set_defaults(run=person_add)
    lst = person.add_parser("list", help="everyone registered")
    lst.add_argument("--all", action="store_true", help="include unclaimed badges")
    lst.set_defaults(run=person_list)
    show = person.add_parser("show", help="one person's points and milestones")
    show.add_argument("badge")
    show.set_defaults(run=person_show)
    claim = person.add_parser("claim", help="give a pre-printed badge to a person")
    claim.add_argument("badge")
    _person_options(claim)
    claim.set_defaults(run=person_claim)
    blank = person.add_parser("blank", help="make N unclaimed badge codes to pre-print,"
                              " each with its claim code")
    blank.add_argument("count", type=int)
    blank.set_defaults(run=person_blank)

    event = sub.add_parser("event", help="add and list events").add_subparsers(metavar="ACTION")
    add = event.add_parser("add", help="add an event; prints its id")
    add.add_argument("name")
    add.add_argument("--date", required=True, help="YYYY-MM-DD")
    add.add_argument("--series")
    add.add_argument("--venue")
    add.add_argument("--id", help="choose the id (default: date and name)")
    add.set_defaults(run=event_add)
    event.add_parser("list", help="every event").set_defaults(run=event_list)
    close = event.add_parser("close", help="close an event (as the admin's button does): the running"
                             " hub sends its results emails")
    close.add_argument("event_id")
    close.set_defaults(run=event_close)

    bkey = sub.add_parser("badge-key", help="the key that signs milestone badges (docs/badges.md)") \
        .add_subparsers(metavar="ACTION")
    bkey.add_parser("rotate", help="make a new signing key; the old ones stay published") \
        .set_defaults(run=badge_key_rotate)
    bkey.add_parser("list", help="the signing keys, oldest first (the last one signs)") \
        .set_defaults(run=badge_key_list)

    kiosk = sub.add_parser("kiosk", help="kiosks and their broker logins").add_subparsers(metavar="ACTION")
    add = kiosk.add_parser("add", help="record a kiosk and make its broker login; prints its settings (TOML)")
    add.add_argument("id")
    add.add_argument("--card", metavar="FILE", help="also print the settings as a set-up card (PDF)")
    add.set_defaults(run=kiosk_add)
    rotate = kiosk.add_parser("rotate", help="a new broker password for a kiosk; prints its settings")
    rotate.add_argument("id")
    rotate.add_argument("--card", metavar="FILE", help="also print the settings as a set-up card (PDF)")
    rotate.set_defaults(run=kiosk_rotate)
    remove = kiosk.add_parser("remove", help="remove a kiosk's broker login (its scans stay)")
    remove.add_argument("id")
    remove.set_defaults(run=kiosk_remove)
    kiosk.add_parser("list", help="each kiosk's last status").set_defaults(run=kiosk_list)

    worker = sub.add_parser("worker", help="broker logins for hub workers (serve --worker)") \
        .add_subparsers(metavar="ACTION")
    wadd = worker.add_parser("add", help="make (or renew) a worker's broker login; writes it to a file")
    wadd.add_argument("name")
    wadd.set_defaults(run=worker_add)

    bconf = sub.add_parser("broker-config", help="write a complete Mosquitto configuration: logins, "
                           "ACL, TLS; anonymous access off")
    bconf.add_argument("--dir", required=True, help="where to write it (then: mosquitto -c DIR/mosquitto.conf)")
    bconf.add_argument("--port", type=int, default=1883, help="plain MQTT port (0: none; default 1883)")
    bconf.add_argument("--bind", help="address for the plain port (e.g. 127.0.0.1 when kiosks use TLS)")
    bconf.add_argument("--tls-port", type=int, help="MQTT over TLS, usually 8883")
    bconf.add_argument("--cert", help="the broker's certificate (PEM), e.g. from Let's Encrypt")
    bconf.add_argument("--key", help="its private key (PEM)")
    bconf.add_argument("--self-signed", action="store_true",
                       help="make a small CA and a certificate for --hostname (kiosks pin the CA)")
    bconf.add_argument("--hostname", action="append", default=[],
                       help="name or address kiosks use to reach the broker (repeat for more)")
    bconf.set_defaults(run=broker_config)

    assign = sub.add_parser("assign", help="point a kiosk at an event (the hub sends it its config)")
    assign.add_argument("kiosk")
    assign.add_argument("event", help="event id, or 'none'")
    assign.set_defaults(run=assign_kiosk)

    role = sub.add_parser("role", help="roles and their points").add_subparsers(metavar="ACTION")
    role.add_parser("list", help="roles, points and hours").set_defaults(run=role_list)
    rset = role.add_parser("set", help="add a role or change its points")
    rset.add_argument("name")
    rset.add_argument("points", type=int)
    rset.add_argument("--hours", type=float, help="estimated hours per event")
    rset.set_defaults(run=role_set)

    q = sub.add_parser("quarantine", help="scans the hub refused").add_subparsers(metavar="ACTION")
    qlist = q.add_parser("list", help="refused messages waiting for an organiser")
    qlist.add_argument("--all", action="store_true", help="include resolved ones")
    qlist.set_defaults(run=quarantine_list)
    qre = q.add_parser("reassign", help="count a refused scan at the right event")
    qre.add_argument("item", type=int)
    qre.add_argument("event")
    qre.set_defaults(run=quarantine_reassign)

    serve = sub.add_parser("serve", help="run ingest and the web server (or one of them: several "
                           "--worker processes can share the scans; docs/scaling.md)")
    serve.add_argument("--broker", help="mqtt://HOST:PORT")
    serve.add_argument("--http", help="HOST:PORT for the web server and API")
    serve.add_argument("--rules", default=argparse.SUPPRESS, help="as the global --rules")
    serve.add_argument("--base-topic")
    serve.add_argument("--client-id", help="MQTT client id (keep it fixed: it names the session)")
    serve.add_argument("--login", help="a broker login file `worker add` wrote (instead of the hub's own)")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--worker", action="store_true", help="take scans only: no web server, no "
                      "configs (run any number, each with its own --client-id, beside one hub that "
                      "serves the web)")
    mode.add_argument("--no-ingest", action="store_true", help="web and API only, and speak for the "
                      "hub (its status, kiosk configs); --worker processes take the scans")
    serve.set_defaults(run=serve_hub)

    migrate = sub.add_parser("migrate-db", help="move this hub's data to another database (SQLite to"
                             " PostgreSQL, or back); prints the rows copied per table")
    migrate.add_argument("--from", dest="source", required=True, metavar="DB",
                         help="the database to copy: sqlite:PATH, a path, or postgresql://…")
    migrate.add_argument("--to", dest="target", required=True, metavar="DB",
                         help="the database to fill: postgresql://… (or sqlite:PATH)")
    migrate.add_argument("--replace", action="store_true",
                         help="empty the target first if it already holds a hub's data")
    migrate.set_defaults(run=migrate_db, own_databases=True)

    sub.add_parser("recompute", help="rebuild all points and milestones from the stored scans") \
        .set_defaults(run=recompute)
    seed = sub.add_parser("seed-sample", help="fill the database with a sample season")
    seed.add_argument("--seed", type=int, default=2025)
    seed.add_argument("--people", type=int, default=120)
    seed.add_argument("--events", type=int, default=12)
    seed.set_defaults(run=seed_sample)

    badges = sub.add_parser("badges", help="printable name badges as a PDF")
    badges.add_argument("codes", nargs="*", metavar="CODE", help="these people's badges")
    badges.add_argument("--out", required=True, help="the PDF file to write")
    which = badges.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="everyone registered")
    which.add_argument("--blank", type=int, metavar="N", help="N new unclaimed codes, to pre-print")
    badges.add_argument("--layout", choices=("sheet", "single"), default="sheet",
                        help="A4 label sheets (default) or one badge per page")
    badges.add_argument("--event", help="event name to print on each badge")
    badges.add_argument("--skip", type=int, default=0, help="labels already used on the first sheet")
    badges.set_defaults(run=print_badges)
    cards = sub.add_parser("cards", help="role cards and the undo card (or a set-up card) as a PDF")
    cards.add_argument("--out", required=True, help="the PDF file to write")
    cards.add_argument("--setup", metavar="EVENT", help="print this event's set-up card instead")
    cards.add_argument("--hub", metavar="HOST[:PORT]", help="with --setup: the broker kiosks should use")
    cards.set_defaults(run=print_cards)
    admin = sub.add_parser("admin", help="the web admin").add_subparsers(metavar="ACTION")
    password = admin.add_parser("set-password", help="set the /admin password (asked for twice)")
    password.add_argument("--stdin", action="store_true", help="read it from the first line of stdin")
    password.set_defaults(run=admin_set_password)
    return p


def _person_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--junior", action="store_true", help="under 18")
    p.add_argument("--org", help="organisation")
    p.add_argument("--email")
    p.add_argument("--results-email", action="store_true",
                   help="they asked for an email after each event they come to (needs --email)")
    p.add_argument("--consent", choices=CONSENTS, default=DEFAULT_CONSENT,
                   help="how the name shows on public pages (default: first name and initial)")
    p.add_argument("--language", choices=list(LANGUAGES), default=DEFAULT_LANGUAGE,
                   help="the language of their results emails (default: en)")


def _describe(person: Person) -> str:
    who = person.name if person.claimed else "(unclaimed)"
    extra = ", ".join(x for x in (person.org, "junior" if person.junior else None) if x)
    return f"{person.badge}\t{who}" + (f"\t{extra}" if extra else "")


def person_add(store: Store, config: HubConfig, args) -> None:
    person = store.add_person(args.name, junior=args.junior, org=args.org, email=args.email,
                              consent=args.consent, results_email=args.results_email,
                              language=args.language)
    print(f"Registered {person.name}. Badge code:")
    print(person.badge)


def person_claim(store: Store, config: HubConfig, args) -> None:
    person = store.claim(args.badge, args.name, junior=args.junior, org=args.org,
                         email=args.email, consent=args.consent, results_email=args.results_email,
                         language=args.language)
    s = store.standing(person.badge)
    print(f"Badge {person.badge} is now {person.name}'s ({s.attended} events, {s.points} points so far).")
    print(person.badge)


def person_blank(store: Store, config: HubConfig, args) -> None:
    from hub.claims import printed

    codes = store.add_blank_badges(args.count)
    people = store.people_by_badge(codes)
    for code in codes:  # both go on the badge: /claim asks for both
        print(f"{code}\t{printed(people[code].claim_code)}")


def person_list(store: Store, config: HubConfig, args) -> None:
    for person in store.people(claimed=None if args.all else True):
        print(_describe(person))


def person_show(store: Store, config: HubConfig, args) -> None:
    person = store.person(args.badge)
    if person is None:
        raise NotFound(f"no badge {args.badge}")
    s = store.standing(person.badge)
    print(_describe(person))
    print(f"points: {s.points}  attended: {s.attended}  volunteered: {s.volunteered}")
    if s.roles:
        print("roles: " + ", ".join(f"{r} {n}" for r, n in s.roles.items()))
    for m in s.milestones:
        print(f"milestone: {m.name} on {m.reached_on} at {m.event}")
    if s.next_milestone:
        n = s.next_milestone  # not phrase(): that is worded for the kiosk screen, right after a scan
        print(f"next: {n.name}, {n.target - n.to_go} of {n.target} so far, {n.to_go} to go")


def event_add(store: Store, config: HubConfig, args) -> None:
    event = store.add_event(args.name, args.date, series=args.series, venue=args.venue, id=args.id)
    print(f"Added {event.name} on {event.date}. Event id:")
    print(event.id)


def event_list(store: Store, config: HubConfig, args) -> None:
    for e in store.events():
        print("\t".join([e.id, e.date, e.name, e.series or "", e.venue or ""]))


def event_close(store: Store, config: HubConfig, args) -> None:
    if store.close_event(args.event_id):
        print(f"Closed {args.event_id}: the running hub sends its results emails within seconds.")
    else:
        print(f"{args.event_id} was already closed.")


def badge_key_rotate(store: Store, config: HubConfig, args) -> None:
    from hub.badges.keys import IssuerKeys

    key = IssuerKeys.beside(config.db_path).rotate()
    print("New signing key made; credentials signed before keep verifying while their key file stays.")
    print(key.thumbprint())


def badge_key_list(store: Store, config: HubConfig, args) -> None:
    from hub.badges.keys import IssuerKeys

    keys = IssuerKeys.beside(config.db_path)
    for key in keys.keys():
        print(f"{key.thumbprint()}\t{keys.directory / (key.thumbprint() + '.jwk')}")


def kiosk_add(store: Store, config: HubConfig, args) -> None:
    accounts = _broker_accounts(config)
    if accounts is None:
        if store.kiosk_known(args.id):
            raise ValueError(f"kiosk {args.id} already exists (`kiosk list` shows it); nothing changed")
        kiosk = store.add_kiosk(args.id)
        print(f"# Recorded kiosk {kiosk.id}. This hub has no broker configuration (broker_dir in "
              "hub.toml), so no login was made: the broker must allow anonymous access.", file=sys.stderr)
        print(f'kiosk_id = "{kiosk.id}"')
        return
    password = accounts.add_kiosk(args.id)
    store.add_kiosk(args.id)
    _print_kiosk_settings(accounts, args.id, password, args.card)


def kiosk_rotate(store: Store, config: HubConfig, args) -> None:
    accounts = _required_broker_accounts(config)
    password = accounts.rotate_kiosk(args.id)
    store.kiosk_logged_out(args.id)
    _print_kiosk_settings(accounts, args.id, password, args.card)


def kiosk_remove(store: Store, config: HubConfig, args) -> None:
    _required_broker_accounts(config).remove_kiosk(args.id)
    store.kiosk_logged_out(args.id)
    print(f"Kiosk {args.id} can no longer log in to the broker; its scans stay on record.")


def _broker_accounts(config: HubConfig):
    if not config.broker_dir:
        return None
    from hub.broker.accounts import BrokerAccounts
    return BrokerAccounts(config.broker_dir, config.base_topic)


def _required_broker_accounts(config: HubConfig):
    accounts = _broker_accounts(config)
    if accounts is None:
        raise ValueError("this hub has no broker configuration: run `turnout-hub broker-config --dir DIR`"
                         " and set broker_dir in hub.toml (or pass --broker-dir)")
    return accounts


def _print_kiosk_settings(accounts, kiosk_id: str, password: str, card: str | None) -> None:
    from hub.broker.kiosk_settings import kiosk_settings

    settings = kiosk_settings(accounts, kiosk_id, password)
    print(f"# Settings for kiosk {kiosk_id}: /etc/turnout/kiosk.toml on the kiosk (or its card).")
    print("# The password is shown this once: the hub keeps only its hash.")
    print(settings.to_toml(), end="")
    if not accounts.reload():
        print("# The broker is not running from this directory (or could not be told): restart it"
              " or send it SIGHUP so the new login works.", file=sys.stderr)
    if card:
        from hub.printing.cards import login_card_pdf
        login_card_pdf(card, settings)
        print(f"# Set-up card written to {card}: scan it on the kiosk in set-up mode.", file=sys.stderr)


def worker_add(store: Store, config: HubConfig, args) -> None:
    from hub.broker.files import worker_user

    login = _required_broker_accounts(config).add_worker(args.name)
    print(f"Worker {args.name} may take scans and answer them; its login is in {login} (keep it"
          " secret). Run it with:")
    print(f"  turnout-hub --db DATABASE serve --worker --client-id {worker_user(args.name)} --login {login}")
    print(login)


def broker_config(store: Store, config: HubConfig, args) -> None:
    from hub.broker.accounts import BrokerAccounts
    from hub.broker.files import Listeners

    accounts = BrokerAccounts(args.dir, config.base_topic)
    cert, key, ca = args.cert, args.key, None
    if args.self_signed:
        from hub.broker.tls import self_signed
        if not args.hostname:
            raise ValueError("--self-signed needs --hostname (the name or address kiosks use)")
        files = self_signed(accounts.dir / "tls", args.hostname)
        cert, key, ca = files.cert, files.key, str(files.ca.resolve())
    tls_port = args.tls_port or (8883 if cert else None)
    if tls_port and not (cert and key):
        raise ValueError("a TLS port needs --cert and --key, or --self-signed")
    listeners = Listeners(port=args.port or None, bind=args.bind, tls_port=tls_port, certfile=cert,
                          keyfile=key)
    if listeners.port:  # the hub runs beside its broker: the plain port on loopback
        hub_broker = f"mqtt://127.0.0.1:{listeners.port}"
    else:
        hub_broker = f"mqtts://{(args.hostname or ['localhost'])[0]}:{tls_port}"
    public = args.hostname[0] if args.hostname else _this_host()
    kiosk_broker = f"mqtts://{public}:{tls_port}" if tls_port else f"mqtt://{public}:{listeners.port}"
    accounts.write_config(listeners, hub_broker, hub_ca=ca if not listeners.port else None,
                          kiosk_broker=kiosk_broker, kiosk_ca=ca)
    shared = accounts.share_with_broker_user()
    print(f"Wrote a Mosquitto configuration to {accounts.dir}/ (anonymous access off):")
    print(f"  run it with:      mosquitto -c {accounts.dir.resolve()}/mosquitto.conf"
          + (" (it becomes the mosquitto user, who may now read the logins and write data/)" if shared else ""))
    print("  or under systemd: systemd/mosquitto.service.d/turnout.conf (docs/hub.md, "
          "\"Mosquitto on the hub's machine\")")
    print(f"  the hub logs in:  {accounts.credentials} (turnout-hub serve reads it via broker_dir)")
    print(f"  kiosks connect:   {kiosk_broker}" + (f" and pin {ca}" if ca else ""))
    print(f"Put this in hub.toml:  broker_dir = \"{accounts.dir.resolve()}\"")
    print("Then `turnout-hub kiosk add ID` makes each kiosk's login.")


def _this_host() -> str:
    import socket
    return socket.getfqdn() or "localhost"


def kiosk_list(store: Store, config: HubConfig, args) -> None:
    for k in store.kiosks():
        reports = f" (it reports {k.reported_event or 'none'})" if k.reported_event != k.event else ""
        print("\t".join([k.id, k.state, f"queued {k.queued}", f"last seen {k.last_seen or 'never'}",
                         f"event {k.event or '-'}{reports}"]))


def assign_kiosk(store: Store, config: HubConfig, args) -> int:
    event = None if args.event.lower() == "none" else args.event
    store.assign_kiosk(args.kiosk, event)
    # The running hub sees the change and publishes the kiosk's retained config itself.
    print(f"Kiosk {args.kiosk} now counts for {event or 'no event'}; the hub tells it within a few"
          " seconds (or when it next starts).")
    return 0


def role_list(store: Store, config: HubConfig, args) -> None:
    rules = store.rules()
    for role, points in rules.roles.items():
        print(f"{role}\t{points} points\t{rules.hours.get(role, 0)} hours")


def role_set(store: Store, config: HubConfig, args) -> None:
    store.set_role(args.name, args.points, args.hours)
    print(f"Role {args.name} scores {args.points} points (run `turnout-hub recompute` to rescore).")


def quarantine_list(store: Store, config: HubConfig, args) -> None:
    for q in store.quarantined(include_resolved=args.all):
        state = f"resolved: {q.resolution}" if q.resolved_at else "waiting"
        print(f"{q.id}\t{q.received_at}\tkiosk {q.kiosk or '?'}\t{q.reason}\t{state}")
        print(f"\t{q.payload[:200]}" + (f" (cut short: {q.size} bytes)" if q.cut_short else ""))
    counts = store.refused_counts()
    if counts:
        print("Refused messages counted (last 90 days): kiosk, refused, kept, cut short, only counted")
        for c in counts:
            print(f"\t{c.kiosk or 'unknown kiosks'}\t{c.refused}\t{c.kept_whole}\t{c.cut_short}\t{c.counted_only}")


def quarantine_reassign(store: Store, config: HubConfig, args) -> None:
    from hub.intake import Intake
    from turnout.protocol import Topics

    ack = Intake(store, Topics(config.base_topic)).reassign(args.item, args.event)
    print(f"Scan {ack.id} now counts at {args.event} ({ack.status}).")


def migrate_db(store: None, config: HubConfig, args) -> int:
    from hub.storage.transfer import copy_hub

    if args.source == args.target:
        raise ValueError("--from and --to name the same database")
    from pathlib import Path

    from hub.storage.database import is_postgres

    if not is_postgres(args.source) and not Path(args.source.removeprefix("sqlite:")).is_file():
        raise ValueError(f"no hub database at {args.source}")
    rules = load_rules(config.rules or None)
    source, target = Store(args.source, rules=rules), None
    try:
        target = Store(args.target, rules=rules)
        copied = copy_hub(source.db, target.db, replace=args.replace)
    finally:
        source.close()
        if target is not None:
            target.close()
    width = max(map(len, copied))
    for table, rows in copied.items():
        print(f"{table:<{width}}  {rows:>9}")
    print(f"Copied {sum(copied.values())} rows in {len(copied)} tables to {redacted(args.target)}.")
    return 0


def recompute(store: Store, config: HubConfig, args) -> None:
    count = store.recompute()
    print(f"Rescored {count} badges from {store.count_scans()} stored scans.")


def seed_sample(store: Store, config: HubConfig, args) -> None:
    from hub.sample import seed_sample as seed

    made = seed(store, seed=args.seed, people=args.people, events=args.events)
    print(f"Sample season: {made['people']} people, {made['events']} events, {made['scans']} scans.")


def print_badges(store: Store, config: HubConfig, args) -> None:
    from hub.web import printouts

    if args.codes and (args.all or args.blank is not None):
        raise ValueError("give badge codes, --all or --blank N, not more than one")
    if args.blank is not None:
        specs = printouts.blank_badges(store, args.blank, event=args.event)
    elif args.all:
        specs = printouts.everyone_badges(store, event=args.event)
    elif args.codes:
        specs = printouts.people_badges(store, args.codes, event=args.event)
    else:
        raise ValueError("say whose badges: CODE..., --all or --blank N")
    pages = printouts.print_badges(args.out, specs, layout=args.layout, skip=args.skip)
    print(f"Wrote {_count(len(specs), 'badge')} on {_count(pages, 'page')}."
          " Print at actual size (no fit to page):")
    if args.blank is not None:
        print("Each blank badge carries its own claim code: people claim it at /claim with the"
              " badge code and the claim code. Keep the sheets safe until handed out.")
    print(args.out)


def print_cards(store: Store, config: HubConfig, args) -> None:
    from hub.web import printouts

    if args.setup:
        printouts.print_setup_card(args.out, store, args.setup, hub=args.hub)
        print(f"Wrote the set-up card for {args.setup}:")
    else:
        pages = printouts.print_cards(args.out, store)
        print(f"Wrote {_count(len(printouts.card_roles(store)), 'role card')} and the undo card"
              f" on {_count(pages, 'page')}:")
    print(args.out)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def admin_set_password(store: Store, config: HubConfig, args) -> None:
    import getpass

    from hub.web.security import set_admin_password

    if args.stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New admin password: ")
        if getpass.getpass("Type it again: ") != password:
            raise ValueError("the two passwords differ; nothing changed")
    set_admin_password(store, password)
    print("Admin password set: sign in at /admin (everyone signed in before must sign in again).")


def serve_hub(store: Store, config: HubConfig, args) -> int:
    import signal

    import uvicorn

    from hub.ingest import Ingest
    from hub.watchdog import HubWatch, hub_status, web_problem
    from turnout.protocol import Topics
    from turnout.systemd import ServiceManager

    config = config.with_options(broker=args.broker, http=args.http, base_topic=args.base_topic,
                                 client_id=args.client_id)
    if args.worker and args.client_id is None:
        raise ValueError("each worker needs its own --client-id (it names the worker's MQTT session;"
                         " two processes with one id take the session from each other)")
    from hub import metrics as hub_metrics

    broker, ca = _hub_broker(config, explicit=args.broker is not None, login=args.login)
    metrics = hub_metrics.HubMetrics(store)
    # Plain serve takes scans and speaks for the hub; --worker only takes scans; --no-ingest
    # only speaks for the hub (one process must: see hub.ingest).
    ingest = Ingest(store, broker, Topics(config.base_topic), client_id=config.client_id,
                    max_batch=config.max_batch, ca=ca, metrics=metrics, scans=not args.no_ingest,
                    control=not args.worker)
    if args.worker:
        return _serve_worker(ingest, config)
    host, port = config.http_host_port
    emails = _email_worker(store, config)
    app = _web_app(store, ingest, config, emails)
    app.include_router(hub_metrics.router(metrics))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False, proxy_headers=True,
                                           forwarded_allow_ips=config.trusted_proxies))
    ingest.start()
    emails.start()
    url = f"http://{host}:{port}/"
    watch = HubWatch(ServiceManager.from_environment(), ingest, started=lambda: server.started,
                     web_check=lambda: web_problem(host, port), status=hub_status(ingest, url),
                     other_checks=(emails.problem,)).start()
    log.info("turnout-hub %s: database %s, web and API on %s", __version__, redacted(config.db_path), url)
    # uvicorn raises SIGTERM again once it has shut down; with the default handler that kills
    # the process before ingest says goodbye. Ours lets the cleanup below run.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run()  # returns on SIGINT or SIGTERM
    finally:
        watch.stop()
        emails.stop()
        ingest.stop()
    return 0


def _email_worker(store: Store, config: HubConfig):
    from hub.badges.issuer import Issuer
    from hub.badges.keys import IssuerKeys
    from hub.email_worker import EmailWorker
    from hub.mailer import mailer_for

    issuer = Issuer(store, config.base_url, IssuerKeys.beside(config.db_path))
    return EmailWorker(store, issuer, config.email, mailer_for(config.email, config.db_path))


def _serve_worker(ingest, config: HubConfig) -> int:
    """Take scans until SIGTERM or SIGINT, with no web server (``serve --worker``)."""
    import signal
    import threading

    from hub.watchdog import HubWatch, hub_status
    from turnout.systemd import ServiceManager

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    ingest.start()
    watch = HubWatch(ServiceManager.from_environment(), ingest, started=lambda: True,
                     web_check=lambda: None, status=hub_status(ingest, "scans only (a worker)")).start()
    log.info("turnout-hub %s worker %s: database %s, taking scans from %s", __version__,
             config.client_id, redacted(config.db_path), ingest.broker)
    try:
        while not stop.wait(1):
            pass
    finally:
        watch.stop()
        ingest.stop()
    return 0


def _hub_broker(config: HubConfig, explicit: bool, login: str | None = None):
    """The broker and the CA to trust: a worker's login file, else the hub's own login from
    broker_dir unless --broker names one (a URL may carry user:password)."""
    from dataclasses import replace

    from hub.broker.accounts import HubLogin
    from turnout.broker_url import BrokerURL

    accounts = _broker_accounts(config)
    if login is not None:
        login = HubLogin.load(Path(login))
        url = BrokerURL.parse(config.broker if explicit else login.broker)
        return replace(url, username=login.username, password=login.password), login.ca
    if accounts is None or explicit:
        return BrokerURL.parse(config.broker), None
    login = accounts.hub_login()
    return replace(BrokerURL.parse(login.broker), username=login.username, password=login.password), login.ca


def _web_app(store: Store, ingest, config: HubConfig | None = None, emails=None):
    """The web pages' app, with the badge issuer and the email worker the pages use."""
    from hub.web import WebSettings, create_web_app

    config = config or HubConfig()
    return create_web_app(store, publish_config=ingest.publish_config, topics=ingest.topics,
                          settings=WebSettings(base_url=config.base_url),
                          issuer=emails.issuer if emails else None, email_worker=emails)


if __name__ == "__main__":
    sys.exit(main())
