"""The string catalogue: both languages everywhere, every key used exists, no UI text outside it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from povmap.i18n import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
CODE_FILES = UI_FILES + sorted((ROOT / "povmap").glob("*.py"))
THAI = re.compile(r"[\u0E00-\u0E7F]")
UI_CALLS = {"title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
            "button", "metric", "text_input", "selectbox", "multiselect", "pills", "segmented_control",
            "page_link", "expander", "write", "toast"}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_thai_and_english(key):
    th, en = CATALOGUE[key]
    assert th.strip() and en.strip()
    assert set(re.findall(r"{(\w+)}", th)) == set(re.findall(r"{(\w+)}", en)), "placeholders differ"
    assert not THAI.search(en) or key in {"app.title"}, "English text holds Thai"


def used_keys():
    for path in CODE_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                yield path.name, node.args[0].value


def test_every_key_used_in_code_exists():
    missing = sorted({f"{f}: {k}" for f, k in used_keys() if k not in CATALOGUE})
    assert not missing


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_pages_write_no_ui_text_of_their_own(path):
    """A literal string passed to a Streamlit element must not be prose; text comes from the catalogue."""
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UI_CALLS:
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(r"[A-Za-z\u0E00-\u0E7F]{3}", arg.value):
                    if not arg.value.startswith("app_pages/"):
                        offenders.append(f"{path.name}:{node.lineno}: {arg.value[:40]!r}")
    assert not offenders


def test_dates_show_the_buddhist_era_in_thai():
    from datetime import datetime, timezone

    from povmap.thai import fmt_datetime
    d = datetime(2018, 11, 23, 4, 5, tzinfo=timezone.utc)
    assert fmt_datetime(d, "th") == "23 พ.ย. 2561 04:05 UTC"
    assert fmt_datetime(d, "en") == "2018-11-23 04:05 UTC"
