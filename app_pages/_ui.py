"""Streamlit glue shared by the pages: language, the cached engine, the first-run screen.

The export and download buttons are in ``app_pages/_downloads.py``."""
from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from app_pages._auth import current_user
from povmap.core.engine import Engine
from povmap.core.errors import PovmapError
from povmap.core.i18n import DEFAULT_LANG, t
# NO_VALUE: what a table shows in a cell without a value (every st.dataframe passes it as its placeholder), as
# fmt_number shows a missing number; Streamlit's own text there reads "None", in English, to every user.
from povmap.core.thai import NO_VALUE, fmt_number  # noqa: F401 - NO_VALUE is for the pages
from povmap.core.vocab import DATASETS
from povmap.data import datasource
from povmap.data.datasource import DataChoice, open_engine
from povmap.data.store import Store, StoreError
from povmap.data.uploads.visibility import may_view_kind
from povmap.present.credits import CREDITS
from povmap.present.text import md_text
from povmap.userdb import dataops, roles
from povmap.userdb.db import user_database

LANG_KEY = "lang"
WARM_UP_EXIT_WAIT_S = 120
WARM_UP_DELAY_S = 20  # after the first page: its map files are long served by then
COMPARE_KEY = "compare.areas"  # the areas picked for comparison (codes), shared by all pages
COMPARE_MAX = 4


def lang() -> str:
    # A segmented control can be cleared (None); the UI keeps its default language then.
    return st.session_state.get(LANG_KEY) or DEFAULT_LANG


@st.cache_resource(show_spinner=False, max_entries=2)
def _store(path: str, version: str) -> Store:
    """One store per build, shared by every session and every choice of datasets."""
    return Store(path)


@st.cache_resource(show_spinner=False, max_entries=4)  # a change view reads two household rounds
def _engine(choice: DataChoice) -> Engine:
    """One engine per store build and choice of datasets (Data page), shared by every session (read-only)."""
    engine = open_engine(choice, store=_store(choice.store, choice.store_version))
    engine.boundaries("province")  # touch the tables every view needs, so errors surface here
    return engine


@st.cache_resource(show_spinner=False)
def warm_up_later() -> None:
    """Make, in the background and once per server, what no first page needs but later pages and exports do: the
    export browser (a Chromium, so the first PNG or PDF does not wait for it to start), the class schemes other
    than quantiles (mapclassify) and esda's numba kernels (~15-60 s, for the first pilot-area page).

    It begins WARM_UP_DELAY_S after the first page has run (app.py). Begun at once, starting Chromium and importing
    libpysal and scikit-learn took the CPU and the interpreter from the first visitor's browser while it loaded the
    map (issue 16). A page that needs one of them sooner makes it itself."""
    def later() -> None:
        from povmap.core.classify import mapclassify
        from povmap.pilot import spatial  # libpysal and scikit-learn: not for the first page
        from povmap.present import headless

        try:
            headless.CHROMIUM.start()
        except PovmapError as exc:  # no browser: the user is told when they click an export
            logging.getLogger("povmap").warning("export browser not started: %s", exc)
        mapclassify()
        spatial.warm_up()

    timer = threading.Timer(WARM_UP_DELAY_S, later)
    timer.name, timer.daemon = "povmap-later-warm-up", True
    timer.start()

    def stop() -> None:
        # LLVM aborts the process (exit 134) if the interpreter shuts down while numba is compiling in this thread:
        # a short-lived process (a test run) drops a warm-up not begun and waits for one in progress.
        timer.cancel()
        timer.join(WARM_UP_EXIT_WAIT_S)

    atexit.register(stop)


SESSION_DATASETS = "data.session"  # this session's own choice of dataset per kind (the Data page sets it; a
# signed-in user's choice is also kept in the user database, so it survives a reload)


def _current_engine() -> Engine:
    """The engine of the installed store build and this session's datasets: its own (or its signed-in user's)
    choice if the user may see it, else the server's default (raises when the store is broken). One user's choice
    changes no other's."""
    return _engine(datasource.choose(use=_session_ids().values()))


def _session_ids() -> dict[str, str]:
    user = current_user()
    wanted = roles.user_datasets(user_database(), user) | st.session_state.get(SESSION_DATASETS, {})
    return dataops.session_ids(user, wanted)


def other_rounds(engine: Engine, dataset: str) -> list:
    """The datasets of the view's kind this user may see, other than the one in use: each can be the other round
    of a change view (newest first, built-ins first)."""
    from povmap.data import uploads as U
    from povmap.data.uploads.visibility import visible

    kind = U.KIND_HOUSEHOLDS if dataset == "households" else U.KIND_COUNTS
    in_use = engine.data.households_info.id if dataset == "households" else engine.data.counts_info.id
    infos = U.list_datasets(kind, store=engine.data.store)
    return [d for d in visible(infos, current_user()) if d.id != in_use and not d.damaged]


def round_engine(dataset_id: str) -> Engine:
    """The engine of this session's datasets with ``dataset_id`` in place of its kind's (the other round); the
    caller offers only ids from :func:`other_rounds`, and the role is checked again here."""
    ids = _session_ids()
    ids_with = dataops.session_ids(current_user(), ids | {_kind_of(dataset_id): dataset_id})
    if dataset_id not in ids_with.values():
        raise PovmapError("error.dataset.unknown", id=dataset_id)
    return _engine(datasource.choose(use=ids_with.values()))


def _kind_of(dataset_id: str) -> str:
    from povmap.data import uploads as U

    return U.get_dataset(dataset_id).kind


def engine() -> Engine | None:
    """The shared engine, or None after showing the first-run screen."""
    try:
        return _current_engine()
    except StoreError as exc:
        first_run(exc)
        return None
    except PovmapError as exc:  # the chosen dataset vanished or is damaged: say so, the Data page can switch
        st.error(exc.message(lang()))
        st.page_link("app_pages/data.py", label=t("nav.data", lang()), icon=":material/database:")
        return None


def engine_if_ready() -> Engine | None:
    """The shared engine if the store opens, without drawing anything (for footers)."""
    try:
        return _current_engine()
    except (StoreError, PovmapError):
        return None


def page_start(prefix: str) -> tuple[Engine, str, PageState]:
    """The shared engine, the language and the page's state helper; stops the page on the first-run screen."""
    eng = engine()
    if eng is None:
        st.stop()
    lg = lang()
    return eng, lg, PageState(prefix, lg)


def first_run(exc: StoreError) -> None:
    lg = lang()
    if exc.missing:
        st.title(t("firstrun.title", lg))
        st.write(t("firstrun.body", lg))
        st.code("povmap data install", language="bash")
    else:  # a store is there but a file is damaged or gone: a plain install would call it up to date
        st.title(t("firstrun.damaged_title", lg))
        st.write(t("firstrun.damaged_body", lg))
        st.code("povmap data install --force", language="bash")
    st.caption(t("firstrun.problem", lg))
    st.error(exc.message(lg))


def synthetic_badge(eng: Engine, lg: str) -> None:
    """The warning on every view of synthetic households: how the built-in file was made, or the name of an
    imported file its owner marked as synthetic."""
    info = eng.data.households_info
    if info.builtin:
        meta = eng.data.manifest["households"]
        st.warning(f"**{t('synthetic.badge', lg)}** — " + t(
            "synthetic.note", lg, seed=meta["seed"], households=fmt_number(meta["households"]),
            members=fmt_number(meta["members"])))
    else:
        st.warning(f"**{t('synthetic.badge', lg)}** — {md_text(info.label(lg))} ({md_text(info.source_label(lg))})")


def credits_footer() -> None:
    lg = lang()
    with st.container(border=True):
        st.markdown(f"**{t('credits.title', lg)}**")
        for c in CREDITS:
            st.caption(f"**{c.title(lg)}** — {c.credit_text(lg)}. _{c.licence_text(lg)}_")
        st.caption(t("credits.admin_list", lg))
        eng = engine_if_ready()
        for info in (eng.data.counts_info, eng.data.households_info) if eng is not None else ():
            if not info.builtin:  # credit the user's own source the way the built-ins are credited
                st.caption(f"**{t('credits.in_use', lg)}: {md_text(info.label(lg))}** — {md_text(info.source_label(lg))}"
                           + (f". _{md_text(info.licence)}_" if info.licence else ""))


def compare_full() -> bool:
    return len(st.session_state.get(COMPARE_KEY, [])) >= COMPARE_MAX


def add_to_compare(code: str) -> None:
    areas = st.session_state.setdefault(COMPARE_KEY, [])
    if code not in areas and len(areas) < COMPARE_MAX:
        areas.append(code)


def compare_button(code: str, container, key: str) -> None:
    """'Add to comparison', or why it cannot be added (already in, or 4 areas already)."""
    lg = lang()
    areas = st.session_state.get(COMPARE_KEY, [])
    if code in areas:
        container.button(t("profile.in_compare", lg, n=len(areas)), disabled=True, key=key)
    elif compare_full():
        container.button(t("profile.add_compare", lg), disabled=True, key=key, help=t("profile.compare_full", lg))
    elif container.button(t("profile.add_compare", lg), key=key):
        add_to_compare(code)
        st.rerun()


class PageState:
    """A page's view values that survive a language switch.

    Streamlit keeps showing a keyed widget's old labels after a language switch, so each language has its
    own widget key (``<prefix><name>.<lang>``); the value itself lives in ``<prefix><name>``.
    """

    def __init__(self, prefix: str, lg: str):
        self.prefix, self.lg, self.ss = prefix, lg, st.session_state
        self.relabel = self.ss.get(prefix + "lang") != lg
        self.ss[prefix + "lang"] = lg

    def force(self, name: str, value) -> None:
        """Set a value and the widget showing it (only before that widget is created)."""
        self.ss[self.prefix + name] = value
        self.ss[f"{self.prefix}{name}.{self.lg}"] = value

    def wkey(self, name: str) -> str:
        key = f"{self.prefix}{name}.{self.lg}"
        if self.prefix + name in self.ss and (self.relabel or key not in self.ss):
            self.ss[key] = self.ss[self.prefix + name]
        return key

    def keep(self, name: str, value):
        self.ss[self.prefix + name] = value
        return value

    def default(self, name: str, value) -> None:
        self.ss.setdefault(self.prefix + name, value)


def dataset_choices(ps: PageState, lg: str) -> tuple[list[str], Callable[[str], str]]:
    """The datasets this user may view (household files only with the right to see them), for a page's picker.
    A view that asked for households (a shared link, an opened scenario) falls back to TPMAP and says why."""
    user = current_user()
    allowed = [d for d in DATASETS if may_view_kind(user, d.key)]
    keys = [d.key for d in allowed]
    if st.session_state.get(ps.prefix + "dataset", keys[0]) not in keys:
        ps.force("dataset", keys[0])
        st.session_state[ps.prefix + "withheld"] = True
    if st.session_state.pop(ps.prefix + "withheld", False):
        st.info(t("auth.households_withheld", lg), icon=":material/lock:")
    return keys, {d.key: d.label(lg) for d in allowed}.__getitem__


def uploader_in(lg: str, types: list[str]) -> None:
    """Streamlit's file uploader writes its button and limit in English whatever the page's language: show the
    catalogue's texts instead (CSS, as the widget has no option for them)."""
    from povmap.data.uploads import UPLOAD_LIMIT_MB

    def css_text(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    button = css_text(t("upload.button", lg))
    limit = css_text(t("upload.limit", lg, mb=UPLOAD_LIMIT_MB, types=", ".join(x.upper() for x in types)))
    st.html(f"""<style>
      [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ font-size: 0; }}
      [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
        content: {button}; font-size: 1rem; }}
      [data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
      [data-testid="stFileUploaderDropzoneInstructions"] span::after {{ content: {limit}; font-size: .875rem; }}
    </style>""")


def presentation_style() -> None:
    """Projector layout: no sidebar or toolbar, full width, larger type (readable from the back of the room)."""
    st.html("""<style>
      [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
      [data-testid="stToolbar"] { display: none !important; }
      .block-container, [data-testid="stMainBlockContainer"] { max-width: 100% !important;
        padding: 1rem 2rem !important; }
      html { font-size: 20px; }
      @media (max-width: 1100px) { html { font-size: 17px; } }  /* a 1024 px projector: the legend stays in lines */
      /* the map ends above the bottom of the window (map.js fitScreen): its box follows it */
      [class*="present.box"] { height: auto !important; min-height: 0 !important; overflow: visible !important; }
    </style>""")


def button_row():
    """A row of buttons and links at their own width, wrapping onto the next line when the screen is narrow (a
    column per button cuts its label on a 1024 px screen)."""
    return st.container(horizontal=True, vertical_alignment="center", gap="small")


def title_bar(title: str):
    """The page title, and a row for its actions (copy link, presentation, brief) beside it that moves under it
    when the screen is narrow, so no button label is cut."""
    bar = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    bar.title(title, width="content")
    return bar.container(horizontal=True, vertical_alignment="center", gap="small", width="content")


def share_link(container, path: str, params: dict[str, str], key: str) -> None:
    """A "copy link" control: the full address of this view, in a code box with Streamlit's copy button."""
    base = urlsplit(st.context.url or "http://localhost:8501/")
    query = urlencode(params)
    url = urlunsplit((base.scheme, base.netloc, "/" + path.lstrip("/"), query, ""))
    with container.popover(t("share.button", lang()), icon=":material/link:"):
        st.caption(t("share.help", lang()))
        st.code(url, language=None, wrap_lines=True)


RANKING_PAGE_ROWS = 250  # rows of a ranking sent at a time; the download holds them all


def ranking_page(table, key: str, lg: str, below) -> tuple:
    """The rows of ``table`` on the page the user picked in ``below`` (a container under the table), and the
    first row's position. Streamlit sends every row of a dataframe with each rerun: the 7,423 subdistricts were
    0.7 MB of every filter change (issue 16), a page of them is a thirtieth of that."""
    n = len(table)
    if n <= RANKING_PAGE_ROWS:
        return table, 0
    starts = list(range(0, n, RANKING_PAGE_ROWS))
    last = lambda s: min(s + RANKING_PAGE_ROWS, n)  # noqa: E731
    start = below.selectbox(
        t("table.page", lg), starts, key=key,
        format_func=lambda s: t("table.page_range", lg, first=fmt_number(s + 1), last=fmt_number(last(s)), total=fmt_number(n)),
        help=t("table.page_note", lg, rows=fmt_number(RANKING_PAGE_ROWS), total=fmt_number(n)))
    return table.iloc[start:last(start)], start
