"""The explorer's change view: the same view in two rounds, the change on a diverging map, the areas that improved
and worsened most, each round's reconciliation and, for household rounds, the tier transitions."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages._downloads import table_downloads
from app_pages._map import area_map
from app_pages._ui import NO_VALUE, button_row, ranking_page
from povmap.core import change as ch
from povmap.core.engine import Engine, Query
from povmap.core.i18n import t
from povmap.core.privacy import privacy_note
from povmap.core.thai import DECIMALS, fmt_number
from povmap.core.transitions import SUMMARY_KEYS, margin, shown
from povmap.core.vocab import CAPITALS, LEVEL_BY_KEY, child_level, level_of, metric_label
from povmap.present import changeview as cv
from povmap.present.html import headline_html, legend_html
from povmap.web.maplayer import MAP_HEIGHT_PX

RANKING_PX = MAP_HEIGHT_PX - 240


def _rounds(eng: Engine, other: Engine, query: Query) -> tuple[Engine, Engine]:
    return cv.rounds_of(eng, other, query.dataset)


def present_change_view(eng: Engine, other: Engine, query: Query, *, lang: str, map_size,
                        labels: int) -> cv.ChangeView:
    """The change view of the two rounds for presentation mode."""
    return cv.build_change_view(*_rounds(eng, other, query), query, lang=lang, map_size=map_size, labels=labels,
                                label_px=16)


PRESENT_TOP = 5


def present_top(ranking: pd.DataFrame, metric: str, lg: str) -> str:
    """Presentation mode, under the legend: the highest areas of the view as a short numbered list (markdown)."""
    from povmap.present.text import md_text

    from povmap.core.thai import fmt_metric

    top = ranking[ranking["rank"].notna()].head(PRESENT_TOP)
    lines = [f"{int(r['rank'])}. {md_text(r['name'])} — {fmt_metric(metric, r['value'], lg)}" for _, r in top.iterrows()]
    return f"**{t('present.top', lg, count=len(top))}**\n\n" + "\n".join(lines) if lines else ""


def present_movers(v: cv.ChangeView, lg: str) -> str:
    """Presentation mode of a change view, under the legend: the areas that fell and rose most."""
    from povmap.present.text import md_text

    dec = DECIMALS[v.change.query.metric]
    out = []
    for frame, fell in ((v.improved, True), (v.worsened, False)):
        rows = [f"- {md_text(r['name'])} {r['change']:+,.{dec}f}" for _, r in frame.head(3).iterrows()]
        if rows:
            out.append(f"**{t('change.improved' if fell else 'change.worsened', lg)}**\n\n" + "\n".join(rows))
    return "\n\n".join(out)


def show_change(eng: Engine, other: Engine, query: Query, *, lang: str, key: str, selected: str | None,
                focus, scope_provinces: list[str], place: str) -> str | None:
    """Draw the change view; returns the code of an area the user clicked (map or table), if any."""
    lg = lang
    a, b = _rounds(eng, other, query)
    v = cv.build_change_view(a, b, query, lang=lg, selected=selected, labels=12)
    c, q = v.change, v.change.query
    households = q.dataset == "households"
    st.markdown(f"**{t('change.heading', lg)}** · {v.label_a} → {v.label_b} · {LEVEL_BY_KEY[q.level].label(lg)}")
    kind, note = cv.definition_note(c.info_a, c.info_b, v.label_a, v.label_b, lg)
    if kind != "ok":  # rounds defined differently (or not said): before any figure
        st.warning(note)
    st.markdown(headline_html(cv.change_headline(v, lg)), unsafe_allow_html=True)
    st.page_link("app_pages/glossary.py", label=t("glossary.see", lg), icon=":material/help:")

    left, right = st.columns([3, 2], gap="medium")
    with left:
        picked = area_map(v.map, a, key=f"{key}.map", height=MAP_HEIGHT_PX, lang=lg, once=True)
        for line in cv.reconcile_lines(v, lg):
            st.caption(line)
        if kind == "ok":
            st.caption(note)
        if households:
            st.caption(privacy_note(b.privacy_k, lg) + " " + t("change.privacy", lg))
    with right:
        st.markdown(legend_html(v.legend, lang=lg, style="page", title=v.title), unsafe_allow_html=True)
        dec = DECIMALS[q.metric]
        fmt = "localized" if dec == 0 else f"%.{dec}f"
        cols = {"name": t("table.name", lg), "value_a": v.label_a, "value_b": v.label_b,
                "change": t("change.tip", lg), "relative": t("change.relative", lg), "code": t("table.code", lg)}
        table = v.ranking[list(cols)].rename(columns=cols)
        shown_cols = [cols[c] for c in ("name", "value_a", "value_b", "change")]  # the rest in the download
        table_box, pager = st.container(), st.container()
        rows_shown, first_row = ranking_page(table, f"{key}.rpage.{q.parent or 'TH'}.{q.level}", lg, pager)
        event = table_box.dataframe(
            rows_shown, column_order=shown_cols, hide_index=True, height=RANKING_PX, on_select="rerun",
            selection_mode="single-row", key=f"{key}.table.{q.parent or 'TH'}.{q.level}" + (f".{first_row}" if first_row else ""),
            column_config={cols["value_a"]: st.column_config.NumberColumn(format=fmt),
                           cols["value_b"]: st.column_config.NumberColumn(format=fmt),
                           cols["change"]: st.column_config.NumberColumn(format="%+." + str(dec) + "f"),
                           cols["relative"]: st.column_config.NumberColumn(format="%+.1f %%"),
                           cols["code"]: st.column_config.TextColumn(width="small")}, placeholder=NO_VALUE)
        st.caption(t("table.hint", lg) if v.drillable else t("selected", lg))
        table_downloads(table, f"{v.title} · {v.label_a} → {v.label_b}", key=f"{key}.dl",
                        household_k=b.privacy_k if households else None)
    rows = event.selection.rows if event else []
    if not picked and rows:
        picked = str(v.ranking.iloc[first_row + rows[0]]["code"])

    i, w = st.columns(2, gap="medium")
    for col, frame, fell in ((i, v.improved, True), (w, v.worsened, False)):
        col.markdown(f"**{t('change.improved' if fell else 'change.worsened', lg)}**")
        if len(frame):
            col.dataframe(frame[["name", "change", "relative"]].rename(columns=cols), hide_index=True,
                          column_config={cols["change"]: st.column_config.NumberColumn(format="%+." + str(dec) + "f"),
                                         cols["relative"]: st.column_config.NumberColumn(format="%+.1f %%")},
                          placeholder=NO_VALUE)
        else:
            col.caption(t("change.no_movers", lg))

    if households:  # transitions are shown for provinces and larger areas (Transitions.published)
        area = focus[:2] if focus else (tuple(scope_provinces) if scope_provinces else None)
        if focus:
            place = eng.names.at[focus[:2], "name_th" if lg == "th" else "name_en"]
        show_transitions(a, b, area, lang=lg, key=key, label_a=v.label_a, label_b=v.label_b, place=place,
                         smaller=bool(focus and len(focus) > 2))
    return picked


def show_transitions(a: Engine, b: Engine, area, *, lang: str, key: str, label_a: str, label_b: str,
                     place: str, smaller: bool = False) -> None:
    """Where the households of ``area`` (a province code, a tuple of them, None: all) went between the two rounds;
    ``smaller``: the user looks at a district or subdistrict, whose province this is."""
    lg = lang
    tr = ch.transitions(a, b)
    st.subheader(t("change.transitions", lg, place=place), anchor=False)
    if smaller:
        st.caption(t("change.transitions_province", lg, place=place))
    referred = st.toggle(t("change.referred_only", lg), key=f"{key}.referred", help=t("change.referred_help", lg))
    who = True if referred else None
    summary = tr.summary(area) if not referred else None
    if summary:
        row = button_row()
        for name in SUMMARY_KEYS:
            raw = summary[name]
            value = None if raw is None else shown(raw, tr.k)
            text = "–" if raw is None else f"< {tr.k}" if value is None else fmt_number(value)
            row.metric(t(f"change.sum.{name}", lg), text, help=t(f"change.sum_help.{name}", lg), width="content")
    data = cv.sankey_data(tr, area, lg, who)
    if data["value"]:
        fig = go.Figure(go.Sankey(
            arrangement="snap",
            node={"label": data["labels"], "pad": 14, "thickness": 16,
                  "color": ["#b2182b", "#ef8a62", "#67a9cf", "#2166ac", "#999999"] * 2},
            link={"source": data["source"], "target": data["target"], "value": data["value"],
                  "color": "rgba(120,120,120,0.25)"}))
        fig.update_layout(height=360, margin={"l": 8, "r": 8, "t": 28, "b": 8}, font={"size": 13},
                          title={"text": f"{label_a} → {label_b}", "font": {"size": 13}})
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key=f"{key}.sankey")
    table = cv.transition_table(tr, area, lg, who)
    st.dataframe(table, hide_index=True, placeholder=NO_VALUE)
    st.caption(t("change.transitions_note", lg, k=tr.k, d=tr.bound) + " " +
               t("change.transitions_margin", lg, n=margin(tr.k)))
    table_downloads(table, f"{t('change.transitions', lg, place=place)} · {label_a} → {label_b}", key=f"{key}.dl.tr",
                    household_k=tr.k)
    caps = cv.capital_change(a, b, area)
    caps["key"] = [next(c for c in CAPITALS if c.key == k).label(lg) for k in caps["key"]]
    st.markdown(f"**{t('change.capitals', lg)}**")
    st.dataframe(caps.rename(columns={"key": t("change.capital", lg), "a": label_a, "b": label_b,
                                      "change": t("change.tip", lg)}), hide_index=True,
                 column_config={t("change.tip", lg): st.column_config.NumberColumn(format="%+.1f")},
                 placeholder=NO_VALUE)


def show_area_change(eng: Engine, other: Engine, code: str, dataset: str, *, lang: str, key: str) -> None:
    """A profile's change between two rounds: the area's figures in both, the areas within that moved most and,
    for household rounds, where its households went."""
    lg = lang
    a, b = cv.rounds_of(eng, other, dataset)
    la, lb = cv.round_labels(ch.info_of(a, Query(dataset=dataset)), ch.info_of(b, Query(dataset=dataset)), lg)
    level = level_of(code)
    metrics = cv.AREA_METRICS[dataset]
    row = button_row()
    for r in cv.area_rounds(a, b, code, dataset):
        label = metric_label(dataset, r["metric"], lg)
        if r["hidden"]:
            row.metric(label, f"< {b.privacy_k}", width="content")
            continue
        dec = DECIMALS[r["metric"]]
        value = "–" if pd.isna(r["value_b"]) else fmt_number(r["value_b"], dec)
        delta = None if pd.isna(r["change"]) else f"{r['change']:+,.{dec}f}"
        row.metric(f"{label} ({la} → {lb})", value, delta, delta_color="inverse", width="content",
                   help=f"{la}: {'–' if pd.isna(r['value_a']) else fmt_number(r['value_a'], dec)}")
    below = child_level(level)
    if below:
        c = ch.compare(a, b, Query(dataset=dataset, level=below, scope=code[:2], parent=code, metric=metrics[0]))
        down, up = ch.movers(c, 3)
        name_col = "name_th" if lg == "th" else "name_en"
        i, w = st.columns(2, gap="medium")
        for col, frame, fell in ((i, down, True), (w, up, False)):
            col.markdown(f"**{t('change.improved' if fell else 'change.worsened', lg)}** · {LEVEL_BY_KEY[below].label(lg)}")
            if len(frame):
                col.dataframe(pd.DataFrame({t("table.name", lg): frame[name_col],
                                            t("change.tip", lg): frame["change"]}), hide_index=True,
                              placeholder=NO_VALUE)
            else:
                col.caption(t("change.no_movers", lg))
    if dataset == "households":  # the province's transitions (Transitions.published)
        show_transitions(a, b, code[:2], lang=lg, key=key, label_a=la, label_b=lb,
                         place=eng.names.at[code[:2], "name_th" if lg == "th" else "name_en"], smaller=len(code) > 2)
