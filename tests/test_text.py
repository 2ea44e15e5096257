"""User text inside markdown stays text: no image, link, short code or line break survives."""
from __future__ import annotations

import re
import string

from hypothesis import given
from hypothesis import strategies as st

from povmap.present.text import md_text


def test_markup_in_a_name_is_escaped():
    out = md_text("![l](http://127.0.0.1:9/x.png) [a](http://x) www.x.org :material/home: *b*\nline")
    for raw in ("![", "](", "http://", "www.x", ":material/", "*b*", "\n"):
        assert raw not in out
    assert md_text("กาฬสินธุ์ 2567") == "กาฬสินธุ์ 2567"


@given(st.text())
def test_every_punctuation_mark_is_escaped_and_the_text_kept(s):
    out = md_text(s)
    i, plain = 0, []
    while i < len(out):  # read the escaped text back: every punctuation mark must come after a backslash
        c = out[i]
        if c == "\\":
            plain.append(out[i + 1])
            i += 2
            continue
        assert c not in string.punctuation and c not in "\r\n"
        plain.append(c)
        i += 1
    assert "".join(plain) == re.sub(r"[\r\n\t\u2028\u2029]+", " ", s)
