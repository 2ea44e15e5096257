"""README.md documents what the code does: the accepted upload headers are the code's own table."""
from __future__ import annotations

from pathlib import Path

from povmap.data.uploads import aliases_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_aliases_table_is_current():
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- aliases:start -->\n", 1)[1].split("\n<!-- aliases:end -->", 1)[0]
    assert table == aliases_markdown()
