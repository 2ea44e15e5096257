"""User-typed text (dataset names, sources, licences, scenario names) shown inside Streamlit markdown as text.

Streamlit renders captions, warnings and markdown as GitHub-flavoured markdown with its own extras (``:emoji:``
and ``:material/icon:`` short codes, bare URLs turned into links). A name such as ``![x](http://host/x.png)`` would
make every viewer's browser fetch that address. Streamlit has no escaper and the markdown libraries escape for
their own dialects only, so this one backslash-escapes every ASCII punctuation mark (CommonMark allows it for all
of them), which also breaks short codes and autolinks, and folds line breaks into spaces.
"""
from __future__ import annotations

import re
import string

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


def md_text(value) -> str:
    """``value`` as literal text inside markdown."""
    return _PUNCT.sub(r"\\\1", _BREAKS.sub(" ", str(value)))
