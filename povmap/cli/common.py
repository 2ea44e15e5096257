"""What every ``povmap`` command shares: the language of its messages."""
from __future__ import annotations

import os


def cli_lang() -> str:
    """Thai when the shell's locale is Thai (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` = th_…), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "th" if value.lower().startswith("th") else "en"
    return "en"
