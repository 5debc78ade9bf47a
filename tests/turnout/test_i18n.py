"""The catalogues: every marked message is in the Welsh ones, compiled, and no screen or form
message is left unmarked.

Extraction is Babel's own, with the same mappings `make translations` uses (babel.cfg and
babel-kiosk.cfg), so a message added in code or a template without `make translations` fails here.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from turnout.i18n import LANGUAGES, LOCALE_DIR, milestone_name, translations

ROOT = Path(__file__).resolve().parents[2]
# domain: (mapping file, source folders and files), as in the Makefile's translations target
SOURCES = {"hub": ("babel.cfg", ["hub", "turnout/i18n.py"]),
           "kiosk": ("babel-kiosk.cfg", ["kiosk", "turnout"])}
WELSH = [code for code in LANGUAGES if code != "en"]
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}  # pybabel's, with -k N_
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def extracted(domain: str) -> set[str]:
    """Every message id the sources mark for ``domain`` (a plural's by its singular)."""
    cfg, inputs = SOURCES[domain]
    with open(ROOT / cfg) as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    ids = set()
    for source in inputs:
        path = ROOT / source
        if path.is_file():
            found = extract_from_file("python", str(path), keywords=KEYWORDS)
            ids |= {m[1] if isinstance(m[1], str) else m[1][0] for m in found}  # (line, message, …)
            continue
        for _, _, message, *_ in extract_from_dir(str(path), method_map, options_map, keywords=KEYWORDS):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def catalogue(domain: str, language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po", "rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("language", WELSH)
@pytest.mark.parametrize("domain", SOURCES)
def test_every_marked_message_is_translated(domain, language):
    """Run `make translations` and translate what it adds when this fails."""
    po = catalogue(domain, language)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in po if m.id}
    missing = sorted(extracted(domain) - ids)
    assert not missing, f"not in the {language} {domain} catalogue: {missing[:10]}"
    empty = [m.id for m in po if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    assert not empty, f"untranslated in {language} {domain}: {empty[:10]}"


@pytest.mark.parametrize("language", WELSH)
@pytest.mark.parametrize("domain", SOURCES)
def test_translations_keep_every_placeholder(domain, language):
    """A translation that drops or renames %(name)s or {name} would fail (or say less) at runtime;
    a plural's singular may leave out the count."""
    for m in catalogue(domain, language):
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else m.id
        strings = (m.string,) if isinstance(m.string, str) else m.string
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            assert found <= wanted and (len(ids) > 1 or found == wanted), (m.id, text)


@pytest.mark.parametrize("language", WELSH)
@pytest.mark.parametrize("domain", SOURCES)
def test_compiled_catalogues_match_their_sources(domain, language):
    """The committed .mo files are what `make translations` compiles from the .po (drafts too)."""
    po = catalogue(domain, language)
    compiled = io.BytesIO()
    write_mo(compiled, po, use_fuzzy=True)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    committed = translations(domain, language)
    assert committed._catalog == fresh._catalog, "run `make translations` and commit the .mo files"


@pytest.mark.parametrize("language", WELSH)
def test_drafts_are_marked_for_review(language):
    """Until a Welsh speaker has reviewed them, the drafts stay fuzzy (docs/translating.md)."""
    for domain in SOURCES:
        po = catalogue(domain, language)
        assert "DRAFT" in (po.header_comment or ""), domain


def test_milestone_names_are_said_in_the_readers_language():
    welsh = translations("kiosk", "cy").gettext
    assert milestone_name("25 club", welsh) == "Clwb 25"
    assert milestone_name("volunteer 10 club", welsh) == "Clwb gwirfoddoli 10"
    assert milestone_name("25 club", lambda s: s) == "25 club"
    assert milestone_name("Gold star", welsh) == "Gold star"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="fr"):
        translations("kiosk", "fr")


# --- Nothing a person reads left unmarked in Python ----------------------------------------------

# Calls whose text arguments a person reads: the kiosk's screens and the hub's form errors,
# flash messages and page errors.
SHOWN_BY = {"Problem", "Notice", "_problem", "write", "centred", "centred_line", "fit", "largest",
            "wrap", "done", "HTTPException", "WifiCardError", "Foreign", "Verdict"}
CHECKED = ["kiosk/machine.py", "kiosk/display/render.py", "kiosk/wifi.py", "kiosk/setup_mode.py",
           "turnout/codes.py", "hub/web/forms.py", "hub/web/admin.py", "hub/web/privacy.py",
           "hub/web/pages.py", "hub/web/app.py"]
MARKED = {"_", "N_", "gettext", "ngettext"}


def words(node: ast.AST) -> bool:
    """A literal with a word in it (not a path, code or single symbol)."""
    if isinstance(node, ast.JoinedStr):  # an f-string, unless it is an address ("/admin/…")
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and str(first.value).startswith("/"):
            return False
        return any(words(v) for v in node.values if isinstance(v, ast.Constant))
    return isinstance(node, ast.Constant) and isinstance(node.value, str) \
        and re.search(r"[A-Za-z]{2,}", node.value) is not None \
        and not re.fullmatch(r"[\w./#:-]+\.(pdf|csv|json|html)|/[\w/.-]*|[a-z_]+", node.value)


def unmarked(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in SHOWN_BY:
                args = list(node.args) + [k.value for k in node.keywords]
                found += [(a.lineno, ast.unparse(a)) for a in args if words(a)]
        if isinstance(node, ast.Assign):  # state.errors["name"] = "…"
            for target in node.targets:
                if isinstance(target, ast.Subscript) and getattr(target.value, "attr", "") == "errors":
                    values = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) \
                        else [node.value]
                    found += [(v.lineno, ast.unparse(v)) for v in values if words(v)]
        if isinstance(node, ast.keyword) and node.arg == "errors" and isinstance(node.value, ast.Dict):
            found += [(v.lineno, ast.unparse(v)) for v in node.value.values if words(v)]
    return sorted(found)


@pytest.mark.parametrize("source", CHECKED)
def test_messages_people_read_are_marked_for_translation(source):
    tree = ast.parse((ROOT / source).read_text(), source)
    assert not unmarked(tree), f"{source}: wrap these in _() or N_(): {unmarked(tree)}"


def test_the_unmarked_check_finds_an_unmarked_message():
    tree = ast.parse('screens.Problem("Try again", _("badge misread"))\n'
                     'state.errors["name"] = f"Name must be {n} long"\n'
                     'done(request, "/admin", N_("Saved"))\n')
    assert [line for line, _ in unmarked(tree)] == [1, 2]
