"""The pages' export buttons: every table as CSV and XLSX, the map as PNG, the area brief as PDF.

**Tables** are built when their button is clicked (Streamlit's deferred download): nothing in them can fail in a
way the user could act on.

**The PNG and the PDF** are rendered by headless Chromium (``povmap.present.headless``), which can fail: no browser on the
server, a render that breaks or times out. Streamlit ignores every command run inside a deferred download's
callable, so a failure there could only hand the user an empty file without a word. These files are therefore
made in the page's own run: the first click renders the file (a spinner shows meanwhile) and puts its download
button in the same place; if the render fails, the button stays, the reason appears below the row of buttons in
the user's language, named with the button's label (a click tries again), and no file is offered. A file made is kept in the session for the view it was
made of only: when the view, the data or the language changes, the plain button comes back.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import streamlit as st

from app_pages._auth import address, current_user
from app_pages._ui import lang
from povmap.core.access import Action
from povmap.core.engine import Engine
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.privacy import export_line
from povmap.core.thai import fmt_datetime
from povmap.present import brief, exports, mapimage
from povmap.present.credits import credit_lines
from povmap.userdb import audit
from povmap.userdb.db import user_database

MADE_KEY = "downloads.made"  # session state: {button key: Made}, the last file (or failure) of each export button


@dataclass(frozen=True)
class Made:
    """What an export button's last click gave, for the view ``spec`` it was made of."""

    spec: str
    data: bytes | None = None
    error: PovmapError | None = None


def audited(make: Callable[[], bytes], what: str, households: bool) -> Callable[[], bytes]:
    """``make``, recording an export of household-based figures in the audit log when it runs (a click). Who and
    from where are read now, in the page's run: a deferred download runs outside it."""
    if not households:
        return make
    user, addr = current_user(), address()

    def run() -> bytes:
        data = make()
        audit.record(user_database(), user, "export_households", what, address=addr)
        return data

    return run


def table_downloads(df, title: str, key: str, *, household_k: int | None = None) -> None:
    """CSV (UTF-8 with BOM) and XLSX buttons for a table as shown; built only when clicked. ``household_k``: the
    table holds household figures protected with this threshold, and its header says how (and each download of
    it is in the audit log)."""
    lg = lang()
    stem = exports.slug(title)
    hh = household_k is not None

    def meta() -> exports.Metadata:
        stamp = (t("export.generated", lg), fmt_datetime(datetime.now(timezone.utc), lg))
        privacy = (export_line(household_k, lg),) if household_k is not None else ()
        return exports.Metadata(title, (*credit_lines(lg), *privacy, stamp))

    row = st.container(horizontal=True, gap="small")
    row.download_button("CSV", data=audited(lambda: exports.to_csv(df, meta()), f"{stem}.csv", hh),
                        file_name=f"{stem}.csv", mime="text/csv",
                       key=f"{key}.csv", on_click="ignore", type="tertiary", icon=":material/download:")
    row.download_button("XLSX", data=audited(lambda: exports.to_xlsx(df, meta()), f"{stem}.xlsx", hh),
                        file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"{key}.xlsx", on_click="ignore", type="tertiary", icon=":material/download:")


def _digest(*parts) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()


def _rendered_download(container, label: str, make: Callable[[], bytes], *, spec: str, key: str, file_name: str,
                       mime: str, icon: str, help: str | None = None) -> None:
    """An export made in this run when its button is clicked (see the module docstring).

    ``spec`` names everything the file depends on; a file or failure kept for another spec is dropped."""
    lg = lang()
    made: dict[str, Made] = st.session_state.setdefault(MADE_KEY, {})
    if key in made and made[key].spec != spec:
        del made[key]
    slot = container.empty()
    entry = made.get(key)
    if entry is None or entry.data is None:
        if slot.button(label, key=key, icon=icon, type="tertiary", help=help):
            with container, st.spinner(label):
                try:
                    entry = made[key] = Made(spec, data=make())
                except PovmapError as exc:
                    logging.getLogger("povmap").exception("export failed: %s", file_name)
                    entry = made[key] = Made(spec, error=exc)
    if entry is not None and entry.data is not None:
        slot.download_button(label, data=entry.data, file_name=file_name, mime=mime, key=f"{key}.file",
                             on_click="ignore", icon=":material/download:", type="primary", help=file_name)
    elif entry is not None and entry.error is not None:
        # Below the row of buttons, at the width of the block that holds it: a button's own column is too narrow
        # to read a sentence in.
        st.error(f"**{label}** — {entry.error.message(lg)}", icon=":material/error:")


def map_downloads(containers, eng: Engine, query, *, scheme: str, k: int, key: str) -> None:
    """Slide (1920×1080) and A4-print PNGs of the map in view, made when clicked."""
    lg = lang()
    stem = exports.slug(f"povmap-{query.scope}-{query.parent or ''}-{query.level}-{query.metric}")
    sizes = ((mapimage.SLIDE, t("export.map_slide", lg), "slide"), (mapimage.A4_LANDSCAPE, t("export.map_print", lg), "a4"))
    for container, (size, label, suffix) in zip(containers, sizes):
        _rendered_download(
            container, label, audited(lambda size=size: mapimage.map_png(eng, query, lang=lg, scheme=scheme, k=k, size=size),
                                      f"{stem}-{suffix}.png", query.dataset == "households"),
            spec=_digest(eng.data.version, query, lg, scheme, k, size), key=f"{key}.{suffix}",
            file_name=f"{stem}-{suffix}.png", mime="image/png", icon=":material/image:")


def scope_brief_download(container, eng: Engine, result, *, key: str, scenario: str | None = None) -> None:
    """One brief (A4 PDF) of a shortlist over a scope of several provinces, made when clicked."""
    lg = lang()
    households = result.frame.dataset == "households"
    _rendered_download(
        container, t("export.scope_brief", lg),
        audited(lambda: brief.scope_brief_pdf(eng, result, lang=lg, scenario=scenario),
                f"brief-{result.frame.scope}.pdf", households),
        spec=_digest(eng.data.version, result.frame, lg, scenario, result.shortlist.to_csv()), key=key,
        file_name=f"{exports.slug(f'brief-{result.frame.scope}')}.pdf", mime="application/pdf",
        icon=":material/picture_as_pdf:", help=t("export.scope_brief_help", lg))


def brief_download(container, eng: Engine, code: str, *, key: str, shortlist=None, scenario: str | None = None,
                   other: Engine | None = None) -> None:
    """The area brief (A4 PDF) of ``code``, made when clicked; ``other``: another round, whose change it adds."""
    lg = lang()
    name = eng.names.at[code, "name_th" if lg == "th" else "name_en"]
    listed = None if shortlist is None else shortlist.to_csv()
    households = current_user().can(Action.VIEW_HOUSEHOLDS)  # a brief for a guest has no household section
    _rendered_download(
        container, t("export.brief", lg),
        audited(lambda: brief.area_brief_pdf(eng, code, lang=lg, shortlist=shortlist, scenario=scenario,
                                             households=households, other=other), f"brief-{code}.pdf", households),
        spec=_digest(eng.data.version, code, lg, scenario, listed, households,
                     other.data.version if other is not None else ""), key=key,
        file_name=f"{exports.slug(f'brief-{code}-{name}')}.pdf", mime="application/pdf",
        icon=":material/picture_as_pdf:", help=t("export.brief_help", lg, name=name))
