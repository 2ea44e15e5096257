"""The PNG and PDF exports in AppTest (``app_pages/_downloads.py``): made in the page's run when clicked, so a
failure is shown where the user clicked, in their language, and no (empty) file is offered; a file made is offered
for the view it was made of only.

The export browser is made unavailable as on a server without Chromium: ``povmap.present.headless`` finds no browser, and
the exports use a fresh browser object (one opened by an earlier test in this process would be used otherwise).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from apptest import open_page
from streamlit.testing.v1 import AppTest

from povmap.core.i18n import t
from povmap.present import brief, headless, mapimage

APP = Path(__file__).resolve().parent.parent / "app.py"
SLIDE = "explorer.dl.map.slide"  # the explorer's "Map PNG (slide)" button
PNG = b"\x89PNG\r\n\x1a\n" + b"povmap test image"


@pytest.fixture
def no_browser(monkeypatch):
    monkeypatch.setattr(headless, "browser_path", lambda: None)
    fresh = headless._Chromium()
    for module in (headless, mapimage, brief):
        monkeypatch.setattr(module, "CHROMIUM", fresh)


def open_app(store, monkeypatch, lang: str = "th", page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("POVMAP_STORE", str(store.path))
    return open_page(None, page, lang=lang, **params)


def downloads(at, key: str) -> list:
    """The download buttons whose key starts with ``key``."""
    return [b for b in at.get("download_button") if f"-{key}" in b.proto.id]


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def said(at, *texts: str) -> bool:
    """An error on the page holds all of ``texts``."""
    return any(all(x in e for x in texts) for e in errors(at))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_failed_map_png_says_why_where_clicked_and_offers_no_file(store, monkeypatch, no_browser, lang):
    at = open_app(store, monkeypatch, lang)
    assert not downloads(at, SLIDE)  # a button that makes the file, not a download of a file made blind
    at.button(key=SLIDE).click().run()
    assert not at.exception, at.exception
    assert said(at, t("export.map_slide", lang), t("error.export.no_browser", lang)), errors(at)  # which file, and why
    assert not downloads(at, SLIDE)  # no file at all, so no empty one
    assert at.button(key=SLIDE).label == t("export.map_slide", lang)  # it stays, to try again


def test_failed_brief_pdf_says_why_on_the_profile_page(store, monkeypatch, no_browser):
    at = open_app(store, monkeypatch, page="app_pages/profile.py", area="4601")
    at.button(key="profile.dl.brief").click().run()
    assert not at.exception, at.exception
    assert said(at, t("export.brief", "th"), t("error.export.no_browser", "th")), errors(at)
    assert not downloads(at, "profile.dl.brief")


def test_error_goes_when_the_view_changes(store, monkeypatch, no_browser):
    at = open_app(store, monkeypatch)
    at.button(key=SLIDE).click().run()
    assert said(at, t("error.export.no_browser", "th"))
    at.selectbox(key="explorer.metric.th").set_value("people").run()
    assert not said(at, t("error.export.no_browser", "th"))


def test_made_png_is_offered_for_its_view_only(store, monkeypatch):
    made = []
    monkeypatch.setattr(mapimage, "map_png", lambda *a, **kw: made.append(kw["size"]) or PNG)
    at = open_app(store, monkeypatch)
    at.button(key=SLIDE).click().run()
    assert not at.exception and not errors(at)
    assert made == [mapimage.SLIDE]
    [dl] = downloads(at, SLIDE + ".file")
    assert dl.proto.label == t("export.map_slide", "th") and dl.proto.url
    at.run()  # another run of the same view: the same file, not made again
    assert len(downloads(at, SLIDE + ".file")) == 1 and made == [mapimage.SLIDE]
    at.selectbox(key="explorer.metric.th").set_value("people").run()  # another view: the file of the old one goes
    assert not downloads(at, SLIDE + ".file") and at.button(key=SLIDE)
