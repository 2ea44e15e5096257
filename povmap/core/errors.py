"""The project's error base: every message a user can see exists in Thai and English."""
from __future__ import annotations


class PovmapError(ValueError):
    """A problem the user can act on. ``en``/``th`` hold the message; ``str()`` is the English one."""

    def __init__(self, en: str, th: str):
        self.en, self.th = en, th
        super().__init__(en)

    def message(self, lang: str) -> str:
        return self.th if lang == "th" else self.en
