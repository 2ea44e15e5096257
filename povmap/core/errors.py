"""The project's error base: every message a user can see exists in Thai and English."""
from __future__ import annotations

from povmap.core.i18n import t


class PovmapError(ValueError):
    """A problem the user can act on: a catalogue ``key`` (``error.<area>.<what>``) and its ``params``.

    :meth:`message` renders it in a language (:func:`povmap.core.i18n.t`) where it is shown; ``en``/``th`` are the two
    renderings and ``str()`` is the English one. Modules not yet converted pass ``(en, th)`` prose instead of a key;
    ``key`` is then None (issue 12: the remaining sites move to the catalogue module by module).
    """

    def __init__(self, key: str, *legacy: str, **params):
        if legacy:  # the old form, PovmapError(en, th)
            self.key, self.params, self._prose = None, {}, {"en": key, "th": legacy[0]}
        else:
            self.key, self.params, self._prose = key, params, None
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        if self._prose is not None:
            return self._prose["th" if lang == "th" else "en"]
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
