"""The message catalogue (povmap/locales/*.toml): both languages everywhere, every key used exists, literal or built
at run time, no key unused, the same placeholders in both languages, plural forms from Babel, no UI text outside it."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
from babel import Locale

from povmap.core.i18n import COUNT, LANGS, MESSAGES, PLURAL_KEYS, t

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py"))]
CODE_FILES = UI_FILES + sorted((ROOT / "povmap").rglob("*.py"))
ERRORS_PY = ROOT / "povmap" / "core" / "errors.py"
THAI = re.compile(r"[\u0E00-\u0E7F]")
PLACEHOLDER = re.compile(r"{(\w+)}")
UI_CALLS = {"title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
            "button", "metric", "text_input", "selectbox", "multiselect", "pills", "segmented_control",
            "page_link", "expander", "write", "toast"}
ALL_KEYS = sorted(set(MESSAGES["th"]) | set(MESSAGES["en"]))


def categories(lang: str) -> set[str]:
    """The CLDR plural categories of ``lang`` (en: one, other; th: other)."""
    return set(Locale.parse(lang).plural_form.tags) | {"other"}


def texts(key: str, lang: str) -> list[str]:
    msg = MESSAGES[lang][key]
    return [msg] if isinstance(msg, str) else list(msg.values())


# ---- the catalogue itself ---------------------------------------------------------------------------------------

def test_both_languages_have_the_same_keys():
    assert set(MESSAGES["th"]) - set(MESSAGES["en"]) == set(), "keys missing in en.toml"
    assert set(MESSAGES["en"]) - set(MESSAGES["th"]) == set(), "keys missing in th.toml"


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_key_has_thai_and_english_with_the_same_placeholders(key):
    for lang in LANGS:
        msg = MESSAGES[lang][key]
        if not isinstance(msg, str):
            assert set(msg) == categories(lang), f"{lang}: plural forms must be exactly {sorted(categories(lang))}"
        assert all(x.strip() for x in texts(key, lang)), f"{lang}: empty text"
    found = {(lang, i): set(PLACEHOLDER.findall(x)) for lang in LANGS for i, x in enumerate(texts(key, lang))}
    assert len({frozenset(p) for p in found.values()}) == 1, f"placeholders differ: {found}"
    if key in PLURAL_KEYS:
        assert COUNT in found["th", 0], "a plural message shows its {count}"
    assert not any(THAI.search(x) for x in texts(key, "en")) or key in {"app.title"}, "English text holds Thai"


def test_files_ship_with_the_package():
    """``pip install`` (editable or not) must carry the .toml files: pyproject names them as package data."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "locales/*.toml" in setuptools["package-data"]["povmap.core"]
    assert {p.name for p in (ROOT / "povmap" / "core" / "locales").glob("*.toml")} == {f"{lang}.toml" for lang in LANGS}
    assert "babel" in " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


# ---- plural forms -----------------------------------------------------------------------------------------------

def test_english_plurals_follow_the_count():
    assert t("am.saved", "en", count=1) == "Saved (1 row)"
    assert t("am.saved", "en", count=0) == "Saved (0 rows)"
    assert t("am.saved", "en", count=2) == "Saved (2 rows)"
    assert t("am.saved", "en", count=1234) == "Saved (1,234 rows)"
    assert t("pilot.areas_ranked", "en", count=1) == "1 area can be ranked"
    assert t("brief.shortlist_here", "en", count=3, total="4") == "3 of the 4 shortlisted areas lie in this area"
    import numpy as np
    assert t("data.ask_one", "en", names="x", count=np.int64(1)) == "x (1 row)"


def test_thai_has_one_form_and_groups_digits():
    assert t("am.saved", "th", count=1) == "บันทึกแล้ว (1 แถว)"
    assert t("am.saved", "th", count=1234) == "บันทึกแล้ว (1,234 แถว)"


def test_a_plural_message_needs_a_number_as_count():
    with pytest.raises(TypeError, match="am.saved"):
        t("am.saved", "en")
    with pytest.raises(TypeError, match="am.saved"):
        t("am.saved", "th")  # Thai has one form, but a missing count is the same mistake
    with pytest.raises(TypeError):
        t("am.saved", "en", count="1,234")


def test_messages_about_a_number_of_things_have_english_plurals():
    """Where a count can be 1, the English text may not fix its noun as plural (or hedge with "(s)")."""
    for key in MESSAGES["en"]:
        for text in texts(key, "en"):
            assert "(s)" not in text, key


# ---- every key used, literal or built at run time ---------------------------------------------------------------

def _error_key(node):
    """The key argument of ``SomeError([path,] "error.…", **params)``, an error built from a catalogue key (see
    povmap/core/errors.py), or None."""
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
    if not (name.endswith(("Error", "Denied", "Conflict", "Dataset", "Problem")) or name == "__init__"):  # __init__: super().__init__(key)
        return None
    for arg in node.args:
        keys = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
        if all(isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.startswith("error.") for k in keys):
            return arg
        if (isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant)
                and str(arg.values[0].value).startswith("error.")):
            return arg  # a family, f"error.<what>.{cause}": enumerated in built_keys
    return None


def _calls():
    """Every ``t(...)`` call in the app's code, every upload text kept for later (``Msg("upload.…", …)``), and every
    error built from a key (``QueryError("error.…", …)``):
    (file:line, keys or None, built-key prefix or None, passes count)."""
    def literal(a):
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            return [a.value]
        if isinstance(a, ast.IfExp):
            body, orelse = literal(a.body), literal(a.orelse)
            return body + orelse if body is not None and orelse is not None else None
        return None

    for path in CODE_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and (getattr(node.func, "id", None) in ("t", "Msg") or _error_key(node) is not None)):
                continue
            if path == ERRORS_PY and getattr(node.func, "id", None) == "t":
                continue  # PovmapError.message renders the key an error carries: those keys are scanned where raised
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arg = node.args[0] if getattr(node.func, "id", None) in ("t", "Msg") else _error_key(node)
            count = any(k.arg in (COUNT, None) for k in node.keywords)
            prefix = None
            if (isinstance(arg, ast.JoinedStr) and len(arg.values) == 2 and isinstance(arg.values[0], ast.Constant)
                    and isinstance(arg.values[1], ast.FormattedValue)):
                prefix = arg.values[0].value
            yield where, literal(arg), prefix, count


def _reasons() -> list[str]:
    """The reasons an unplaced row can give, as povmap/core/engine.py's docstring names them."""
    from povmap.core import engine as metrics
    named = re.search(r"``reason\.<key>`` \(([^)]*)\)", metrics.__doc__).group(1)
    return [r.strip() for r in named.split(",")]


@pytest.fixture(scope="module")
def built_keys(store) -> dict[str, tuple[str, ...]]:
    """Each family of keys built at run time (``t(f"<prefix>{value}")``) with every value it can take."""
    from povmap.core import access, vocab
    from povmap.data.uploads import KINDS, MODES
    from povmap.userdb import audit
    from povmap.data.uploads.datasets import BUILTIN_STEM, OS_CAUSES
    from povmap.core.transitions import SUMMARY_KEYS
    from povmap.data.uploads.problems import SEVERITY
    from povmap.data.uploads.validate import AREA_COUNT_LEVELS
    from povmap import pilot
    from povmap.pilot import spatial
    from povmap.present.glossary import TERMS as GLOSSARY_TERMS
    from povmap.present.profile import FIGURE_KEYS, TITLED
    families = {
        "unit.": [m.key for m in vocab.METRICS if m.is_count],  # Result.count_label: what a count counts
        "fig.": FIGURE_KEYS,  # the profile's headline figures
        "cluster.": list(spatial.GEODA_COLOURS),  # LISA and Gi* classes
        "pilot.m.norm.": [n.key for n in vocab.NORMALISATIONS],
        "metric.short.": [m.key for m in vocab.METRICS],
        "area.titled.": TITLED,
        "am.": ("manager", "code", "note"),  # povmap/userdb/areamanagers.py: the in-app table's column labels
        "glossary.title.": GLOSSARY_TERMS,  # povmap/present/glossary.py
        "glossary.text.": GLOSSARY_TERMS,  # povmap/present/profile.py area_title  # the explorer's ranking header
        "dataset.builtin.": tuple(BUILTIN_STEM.values()),  # povmap/data/uploads/datasets.py: built-ins' names
        "dataset.builtin_source.": tuple(BUILTIN_STEM.values()),
        "change.sum.": SUMMARY_KEYS,  # povmap/core/transitions.py: the transition headline figures
        "change.sum_help.": SUMMARY_KEYS,
        "data.format.": KINDS,  # the kinds of file the Data page imports
        "data.mode.": MODES,
        "reason.": _reasons(),
        "note.": ("recoded_successor", "dropped_polygon", "no_polygon"),  # povmap/data/boundaries.py's issues
        "pilot.gate.": ("min_count", "not_covered"),
        "pilot.note.": pilot.NOTE_KINDS,  # povmap/pilot/__init__.py Note  # povmap/pilot/__init__.py _gates
        "ctl.view.": ("dimensions", "indicator"),  # the explorer's view switch
        "cov.": ("level", *store.manifest["coverage"]["province"]),  # the Data sources page's coverage table
        "error.dataset.kept_not_active.": OS_CAUSES,  # povmap/data/uploads/datasets.py: why a file operation failed
        "error.dataset.delete_failed.": OS_CAUSES,
        "error.access.": [a.value for a in access.Action],  # povmap/core/access.py require(): what was refused
        "role.": [r.value for r in access.Role],
        "audit.": audit.ACTIONS,  # the admin page's audit log
        "upload.message.": list(SEVERITY),  # povmap/data/uploads/problems.py: each kind of problem of an upload
        "upload.advice.": list(SEVERITY),
        "upload.n.": AREA_COUNT_LEVELS,  # the levels a counts file's check summary names
    }
    assert set(store.boundary_notes["issue"]) <= set(families["note."])
    return {prefix: tuple(values) for prefix, values in families.items()}


def test_every_key_argument_is_literal_or_an_enumerated_family(built_keys):
    """A key is a literal, a choice of literals, or ``f"<prefix>{value}"`` of a family listed in ``built_keys``."""
    calls = list(_calls())
    assert len(calls) > 300
    odd = [where for where, keys, prefix, _ in calls if keys is None and prefix not in built_keys]
    assert not odd, "t() with a key the test cannot enumerate: use a literal, or add its family to built_keys"
    used = {prefix for _, _, prefix, _ in calls if prefix}
    assert used == set(built_keys), "a family is listed but no code builds it"


def used_keys(built_keys) -> dict[str, str]:
    """Every key the code can ask for -> where."""
    out = {}
    for where, keys, prefix, _ in _calls():
        for key in keys if keys is not None else [prefix + v for v in built_keys.get(prefix, ())]:
            out.setdefault(key, where)
    return out


def test_every_key_used_exists_in_both_languages(built_keys):
    for lang in LANGS:
        missing = sorted(f"{where}: {key}" for key, where in used_keys(built_keys).items() if key not in MESSAGES[lang])
        assert not missing, lang


def test_no_key_is_unused(built_keys):
    unused = sorted(set(ALL_KEYS) - set(used_keys(built_keys)))
    assert not unused


def test_plural_messages_are_given_a_count(built_keys):
    no_count = []
    for where, keys, prefix, count in _calls():
        keys = keys if keys is not None else [prefix + v for v in built_keys.get(prefix, ())]
        if set(keys) & PLURAL_KEYS and not count:
            no_count.append(where)
    assert not no_count


# ---- pages ------------------------------------------------------------------------------------------------------

def _is_logger(node) -> bool:
    """``logging.getLogger(...)``, ``log``, ``logger``, ``_log``…: the receiver of a log call."""
    if isinstance(node, ast.Call):
        return getattr(node.func, "attr", getattr(node.func, "id", None)) == "getLogger"
    return isinstance(node, ast.Name) and node.id.strip("_").lower() in {"log", "logger", "logging"}


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_pages_write_no_ui_text_of_their_own(path):
    """A literal string passed to a Streamlit element must not be prose; text comes from the catalogue."""
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UI_CALLS:
            if _is_logger(node.func.value):
                continue  # a server log line, not UI text
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(r"[A-Za-z\u0E00-\u0E7F]{3}", arg.value):
                    if not arg.value.startswith("app_pages/"):
                        offenders.append(f"{path.name}:{node.lineno}: {arg.value[:40]!r}")
    assert not offenders


def test_dates_show_the_buddhist_era_in_thai():
    from datetime import datetime, timezone

    from povmap.core.thai import fmt_datetime
    d = datetime(2018, 11, 23, 4, 5, tzinfo=timezone.utc)
    assert fmt_datetime(d, "th") == "23 พ.ย. 2561 11:05 น."  # Bangkok time, Buddhist Era
    assert fmt_datetime(d, "en") == "2018-11-23 11:05 (Bangkok)"
    late = d.replace(hour=20)  # after 17:00 UTC it is already the next day in Bangkok
    assert fmt_datetime(late, "th") == "24 พ.ย. 2561 03:05 น."
