"""The project's error base: every message a user can see exists in Thai and English."""
from __future__ import annotations

from povmap.core.i18n import t


class PovmapError(ValueError):
    """A problem the user can act on: a catalogue ``key`` (``error.<area>.<what>``) and its ``params``.

    :meth:`message` renders it in a language (:func:`povmap.core.i18n.t`) where it is shown; ``en``/``th`` are the two
    renderings and ``str()`` is the English one.
    """

    def __init__(self, key: str, **params):
        self.key, self.params = key, params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.shown_params(lang))

    def shown_params(self, lang: str) -> dict:
        """The params as shown in ``lang`` (a subclass formats a time or a list per language)."""
        return self.params

    @property
    def en(self) -> str:
        return self.message("en")

    @property
    def th(self) -> str:
        return self.message("th")


def render(key: str, lang: str, params: dict) -> str:
    """The text of a key an error carries, in ``lang`` (for errors that are not a :class:`PovmapError`; the keys
    are checked where the errors are raised)."""
    return t(key, lang, **params)
