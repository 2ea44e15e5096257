"""The UI's message catalogue: every label and message in Thai and English, kept as data.

The texts live in ``povmap/core/locales/<lang>.toml``, one file per language (``th.toml``, ``en.toml``), with the same
keys in both. A key names where a text is used, dotted (``"pilot.col.rank"``; quoted in TOML because of the dots).
A value is a text, or a table of plural forms (below). ``{name}`` in a text is a placeholder, filled from
:func:`t`'s keyword arguments with :meth:`str.format`; a key has the same placeholders in both languages. A text
is formatted only when keyword arguments are given, so a text without them may hold literal braces.

**Plural forms.** A message about a number of things gives, in a language that inflects for number, one text per
CLDR plural category of that language, as a TOML table: in ``en.toml``
``"am.saved".one = "Saved ({count} row)"`` and ``"am.saved".other = "Saved ({count} rows)"``. Thai has one form
(CLDR category ``other`` only), so ``th.toml`` keeps a plain text for the same key. The parameter that picks the
form is always **``count``**, a number: :func:`t` asks Babel for the language's plural category of ``count``
(``Locale(lang).plural_form``; English: 1 → ``one``, 0, 2, 1.5 → ``other``) and uses that form, or ``other``.
``{count}`` in the text shows the number with the language's digit grouping (``1,234``), so callers pass the
number itself, not a formatted string. A plural message called without ``count`` raises :class:`TypeError`. Other
numbers in a plural message (``{total}``, ``{k}``…) do not change the form; write the text so that they need not.

**Keys built at run time** (``t(f"reason.{r}", lang)``) take their values from the vocabulary or a named constant
of the module that makes them; tests/test_i18n.py lists each such family with its values and checks that every key
used, literal or built, exists in both languages, that no key is unused, and that the placeholders agree.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from numbers import Integral, Real
from types import MappingProxyType

from babel import Locale
from babel.numbers import format_decimal

LANGS = ("th", "en")
DEFAULT_LANG = "th"
COUNT = "count"  # the keyword argument that picks a plural form (see the module docstring)

Message = str | Mapping[str, str]  # a text, or plural category -> text


def _load(lang: str) -> Mapping[str, Message]:
    """``povmap/core/locales/<lang>.toml`` (package data), read-only."""
    text = resources.files(__package__).joinpath("locales", f"{lang}.toml").read_text(encoding="utf-8")
    return MappingProxyType({k: MappingProxyType(v) if isinstance(v, dict) else v
                             for k, v in tomllib.loads(text).items()})


MESSAGES: Mapping[str, Mapping[str, Message]] = MappingProxyType({lang: _load(lang) for lang in LANGS})
# Keys with plural forms in some language: they need ``count``, in every language.
PLURAL_KEYS = frozenset(k for msgs in MESSAGES.values() for k, v in msgs.items() if not isinstance(v, str))
# key -> (th, en), the shape of the catalogue before it became data; kept for callers (tests) that read it.
CATALOGUE: Mapping[str, tuple[Message | None, Message | None]] = MappingProxyType(
    {k: (MESSAGES["th"].get(k), MESSAGES["en"].get(k)) for k in {**MESSAGES["th"], **MESSAGES["en"]}})


@cache
def _plural_rule(lang: str):
    return Locale.parse(lang).plural_form


def plural_category(lang: str, count: Real) -> str:
    """The CLDR plural category (``one``, ``other``…) of ``count`` in ``lang``, from Babel."""
    return _plural_rule(lang)(count)


def t(key: str, lang: str, **params) -> str:
    """The text for ``key`` in ``lang`` (Thai for ``"th"``, English otherwise), formatted with ``params``.

    A plural message takes ``count`` (a number), which picks the form and fills ``{count}``.
    """
    lang = "th" if lang == "th" else "en"
    msg = MESSAGES[lang][key]
    if key in PLURAL_KEYS or COUNT in params:
        count = params.get(COUNT)
        if isinstance(count, bool) or not isinstance(count, Real):
            raise TypeError(f"message {key!r} takes a number as count=, got {count!r}")
        count = int(count) if isinstance(count, Integral) else count
        if not isinstance(msg, str):
            msg = msg.get(plural_category(lang, count), msg["other"])
        params[COUNT] = format_decimal(count, locale=lang)
    return msg.format(**params) if params else msg
