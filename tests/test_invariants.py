"""Invariants of the code itself are checked with explicit errors, never ``assert`` (``python -O`` drops asserts)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from povmap.core import classify
from povmap.core.vocab import CLASS_SCHEME_KEYS
from povmap.userdb import db as userdb

REPO = Path(__file__).resolve().parent.parent


def test_no_assert_statements_in_shipped_code():
    found = [f"{path.relative_to(REPO)}:{node.lineno}"
             for folder in ("povmap", "app_pages") for path in sorted((REPO / folder).rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
             if isinstance(node, ast.Assert)]
    assert found == [], f"use an explicit check that raises, not assert: {found}"


def test_class_schemes_match_the_vocabulary():
    classify.check_schemes(classify.SCHEMES, CLASS_SCHEME_KEYS)
    with pytest.raises(RuntimeError, match=r"missing \['natural'\]"):
        classify.check_schemes(classify.SCHEMES, [*CLASS_SCHEME_KEYS, "natural"])
    with pytest.raises(RuntimeError, match=r"unknown \['quantiles'\]"):
        classify.check_schemes(classify.SCHEMES, [k for k in CLASS_SCHEME_KEYS if k != "quantiles"])


def test_one_migration_per_schema_version():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(userdb.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    chain = [s.revision for s in reversed(list(script.walk_revisions()))]  # oldest first; walk fails on a fork
    assert chain == [f"{i:04d}" for i in range(1, userdb.SCHEMA_VERSION + 1)]
    assert script.get_heads() == [userdb.HEAD]
