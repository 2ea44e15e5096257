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
