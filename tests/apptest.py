"""Opening a page of the app in Streamlit's AppTest as a link would: its language, its page, its URL."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


def open_page(at: AppTest | None = None, page: str | None = None, *, lang: str | None = None,
              timeout: float = 120, **params) -> AppTest:
    """Run ``page`` (``app_pages/…``; None: the explorer) with ``params`` in its address; fails on a traceback."""
    if at is None:
        at = AppTest.from_file(str(APP), default_timeout=timeout)
    if lang:
        at.session_state["lang"] = lang
    if page:
        at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def headline(at: AppTest) -> list[dict[str, str]]:
    """The explorer's first figures (``povmap.present.explorer.headline``): [{label, value, note}] as shown."""
    import html
    import re

    [block] = [m.value for m in at.markdown if 'data-testid="povmap-headline"' in m.value]
    cards = re.findall(r'<div style="min-width:[^"]*">(.*?)</div></div>', block + "</div>")
    out = []
    for card in cards:
        parts = [html.unescape(p) for p in re.findall(r"<div[^>]*>(.*?)</div>", card + "</div>")]
        out.append(dict(zip(("label", "value", "note"), parts + [""] * (3 - len(parts)))))
    return out


def reconciled(at: AppTest, lang: str = "th") -> dict[str, str]:
    """{placed, unplaced, total} of the explorer's "not on this map" line (``unplaced.reconcile``), as shown."""
    import re

    from povmap.core.i18n import t

    marks = {k: f"\0{k}\0" for k in ("placed", "unplaced", "total")}
    text = re.escape(t("unplaced.reconcile", lang, unit="\0unit\0", **marks))
    for k in marks:  # the placed count may be followed by " + hidden …" (privacy.hidden_part)
        text = text.replace(re.escape(marks[k]), rf"(?P<{k}>[^\s+=]+)" + (r"[^=]*?" if k == "placed" else ""))
    text = text.replace(re.escape("\0unit\0"), r"\S+")
    [m] = [m for md in at.markdown if (m := re.search(text, md.value))]
    return m.groupdict()
