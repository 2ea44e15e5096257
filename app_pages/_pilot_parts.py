"""Sections of the pilot-area page: shortlist, robustness, scenarios and export (layout only)."""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import streamlit as st

from app_pages._compare_view import render_comparison
from app_pages._downloads import audited, brief_download, scope_brief_download
from app_pages._auth import address, current_user
from app_pages._map import area_map
from app_pages._ui import COMPARE_KEY, COMPARE_MAX, NO_VALUE, add_to_compare, button_row
from povmap import pilot
from povmap.core.access import Action
from povmap.core.engine import Engine
from povmap.core.errors import PovmapError
from povmap.core.i18n import t
from povmap.core.thai import fmt_datetime, fmt_number
from povmap.core.vocab import CRITERION_BY_KEY, CRITERION_KEYS, SCOPE_GROUP_KEYS
from povmap.pilot.criteria import Frame
from povmap.present import charts, exports, pilotview
from povmap.present.explorer import LegendRow
from povmap.present.html import legend_html
from povmap.present.text import md_text
from povmap.present.urlstate import page_params, shown
from povmap.userdb import scenarios
from povmap.web.maplayer import MAP_HEIGHT_PX

K = "pilot."
PENDING = K + "pending"
OPENED = K + "opened"  # {"id", "name", "frame", "settings", "codes"} of the scenario last saved or reopened


def legend(rows: list[LegendRow], lg: str) -> None:
    st.markdown(legend_html(rows, lang=lg, style="small"), unsafe_allow_html=True)


# ---- shortlist ------------------------------------------------------------------------------
def shortlist_section(eng: Engine, result: pilot.PilotResult, lg: str) -> None:
    st.subheader(t("pilot.score_section", lg))
    s = result.settings
    n_short = int(result.ranked["shortlisted"].sum())
    rule = t("pilot.m.rule_k", lg, count=s.per_district_k) if s.per_district_k else t("pilot.m.rule_n", lg, count=s.top_n)
    st.markdown(t("pilot.shortlist_summary", lg, count=n_short, rule=rule,
                  eligible=fmt_number(int(result.ranked["eligible"].sum())), total=fmt_number(len(result.ranked))))
    with st.expander(t("pilot.method", lg)):
        for label, value in pilotview.method_lines(eng, result, lg, scenario=_scenario_name(result)):
            st.markdown(f"**{html.escape(label)}**: {html.escape(value)}")

    left, right = st.columns([3, 2], gap="medium")
    table = pilotview.shortlist_display(eng, result, lg)
    show_all = right.toggle(t("pilot.show_all", lg), key=f"{K}show_all")
    shown = table if show_all else table[table[t("pilot.col.shortlisted", lg)]]
    shown = shown.drop(columns=[t("pilot.col.shortlisted", lg)])
    with right:
        st.caption(t("pilot.table_hint", lg))
        event = st.dataframe(shown, hide_index=True, height=MAP_HEIGHT_PX - 60, on_select="rerun",
                             selection_mode="multi-row", key=f"{K}table.{show_all}",
                             column_config={t("pilot.col.score", lg): st.column_config.NumberColumn(format="%.3f"),
                                            t("table.code", lg): st.column_config.TextColumn()}, placeholder=NO_VALUE)
    rows = event["selection"]["rows"] if event else []
    picked = shown.iloc[rows][t("table.code", lg)].tolist()[:COMPARE_MAX]
    with left:
        spec, rows_legend = pilotview.shortlist_map(eng, result, lg, selected=picked[0] if len(picked) == 1 else None)
        clicked = area_map(spec, eng, key=f"{K}map.{result.frame.level}.{result.frame.scope}", height=MAP_HEIGHT_PX - 60,
                           lang=lg)
        legend(rows_legend, lg)
    if clicked and not picked:
        picked = [clicked]
    _selection_actions(eng, picked, lg)


def _selection_actions(eng: Engine, picked: list[str], lg: str) -> None:
    """One area: open its profile or add it to the comparison. Two to four: compare them right here."""
    if len(picked) == 1:
        code = picked[0]
        name = eng.names.at[code, "name_th" if lg == "th" else "name_en"]
        c1, c2 = st.columns([2, 3])
        c1.page_link("app_pages/profile.py", label=f"{t('profile.open', lg)}: {name}", query_params={"area": code})
        if c2.button(t("profile.add_compare", lg), key=f"{K}add.{code}",
                     disabled=code in st.session_state.get(COMPARE_KEY, [])):
            add_to_compare(code)
            st.rerun()
    elif len(picked) >= 2:
        with st.container(border=True):
            st.markdown(f"**{t('pilot.comparing', lg, n=len(picked))}**")
            render_comparison(eng, picked, lg, key=f"{K}compare")
            st.page_link("app_pages/compare.py", label=t("pilot.open_compare", lg), query_params={"areas": ",".join(picked)})


# ---- robustness -----------------------------------------------------------------------------
def robustness_section(result: pilot.PilotResult, lg: str) -> None:
    st.subheader(t("pilot.robustness", lg))
    stab = result.stability
    if stab is None:
        st.info(t("pilot.no_shortlist", lg))
        return
    s = result.shortlist.sort_values("rank")
    name = "name_th" if lg == "th" else "name_en"
    fragile = s["fragile"].fillna(False).astype(bool)
    st.markdown(t("pilot.robust_summary", lg, count=len(s), solid=int((s["stay_share"] >= 0.9).sum()),
                  fragile=int(fragile.sum()), draws=stab.draws, spread=round(100 * stab.spread)))
    names = [f"{r[name]} ({c})" for c, r in s.iterrows()]
    depends = [CRITERION_BY_KEY[d].label(lg) if isinstance(d, str) and d else "" for d in s["depends_on"]]
    st.plotly_chart(charts.stability_bars(names, s["stay_share"].tolist(), depends, stab.fragile_below, lg),
                    theme=None, key=f"{K}stability")
    st.caption(t("pilot.robust_legend", lg, below=round(100 * stab.fragile_below)))
    dep = s[s["depends_on"].fillna("").astype(str) != ""]
    if len(dep):
        st.warning(t("pilot.depends_warning", lg, count=len(dep)))


# ---- scenarios ------------------------------------------------------------------------------
def _scenario_name(result: pilot.PilotResult) -> str | None:
    """The saved scenario this view shows, if its frame and settings are unchanged since it was saved or opened."""
    o = st.session_state.get(OPENED)
    if o and o["frame"] == result.frame.as_dict() and o["settings"] == result.settings.as_dict():
        return o["name"]
    return None


def widget_values(frame: Frame, settings: pilot.Settings) -> dict:
    """The page's widget values that show a saved frame and settings."""
    out = {"dataset": frame.dataset, "level": frame.level, "dims": list(frame.dimensions), "tiers": list(frame.tiers),
           "norm": settings.normalisation, "per_district": bool(settings.per_district_k), "k": settings.per_district_k or 1,
           "top_n": settings.top_n, "gate_cov": settings.require_coverage, "min_count": settings.min_count,
           "alpha": settings.alpha, "fdr": settings.fdr, "vs": frame.vs or ""}
    if frame.scope in SCOPE_GROUP_KEYS:
        out["scope"] = frame.scope
    else:
        out["scope"], out["province"] = "one", frame.scope
    weights = dict(settings.weights)
    for key in CRITERION_KEYS:
        out[f"on.{key}"] = key in settings.enabled
        out[f"w.{key}"] = weights.get(key, pilot.DEFAULT_WEIGHTS[key])
    return out


def scenario_section(eng: Engine, result: pilot.PilotResult, lg: str, db: Path) -> None:
    st.subheader(t("pilot.scenarios", lg))
    ss = st.session_state
    user = current_user()
    opened = ss.get(OPENED)
    current = _scenario_name(result)
    if opened and current:
        saved, now = opened["codes"], pilot.shortlist_table(result)["code"].tolist()
        if saved == now:
            st.success(t("pilot.reopened_exact", lg, name=md_text(current)))
        else:
            st.warning(t("pilot.reopened_differs", lg, name=md_text(current)))
    try:
        infos = scenarios.list_scenarios(db)
    except PovmapError as exc:
        st.error(exc.message(lg))
        return
    save_col, list_col = st.columns([2, 3], gap="large")
    if user.can(Action.SAVE_SCENARIO):
        with save_col:
            _save_form(eng, result, lg, db, user, current, opened)
    else:  # a guest opens and exports shared scenarios; saving needs an account
        save_col.info(t("pilot.save_needs_role", lg), icon=":material/lock:")
    with list_col:
        if not infos:
            st.caption(t("pilot.no_scenarios", lg))
            return
        by_id = {i.id: i for i in infos}

        def label(i: int) -> str:
            x = by_id[i]
            who = x.owner_name or x.owner or t("pilot.owner_unknown", lg)
            return f"{x.name} · {x.n_areas} · {who} · {fmt_datetime(datetime.fromisoformat(x.updated_at), lg)}"

        sid = st.selectbox(t("pilot.saved", lg), list(by_id), format_func=label, key=f"{K}pick")
        c1 = c2 = c3 = button_row()
        if c1.button(t("pilot.open", lg), key=f"{K}open", type="primary"):
            _open(db, sid)
        if by_id[sid].changeable_by(user):  # only its owner or an admin: for anyone else the controls are absent
            _rename_delete(db, by_id[sid], user, opened, lg, c2, c3)
        else:
            c2.caption(t("pilot.not_yours", lg))
        if len(infos) >= 2:
            _diff(eng, db, list(by_id), label, lg)


def _save_form(eng: Engine, result: pilot.PilotResult, lg: str, db: Path, user, current, opened) -> None:
    ss = st.session_state
    with st.form(f"{K}save", border=True):
        st.markdown(f"**{t('pilot.save', lg)}**")
        name = st.text_input(t("pilot.scenario_name", lg), value=current or "", max_chars=80, key=f"{K}save_name")
        overwrite = st.checkbox(t("pilot.overwrite", lg))
        if st.form_submit_button(t("pilot.save_button", lg), type="primary"):
            table = pilot.shortlist_table(result)
            # Overwriting the scenario this session opened: refused if someone changed it since it was opened.
            same = opened and scenarios.same_name(opened["name"], name)
            try:
                sid = scenarios.save(db, name, result.frame.as_dict(), result.settings.as_dict(), table,
                                     eng.data.version, overwrite=overwrite, by=user, address=address(),
                                     expected_version=opened.get("version") if same else None)
            except PovmapError as exc:
                st.error(exc.message(lg))
            else:
                ss[OPENED] = {"id": sid, "name": name.strip(), "frame": result.frame.as_dict(),
                              "settings": result.settings.as_dict(), "codes": table["code"].tolist(),
                              "version": scenarios.load(db, sid).version}
                st.rerun()


def _rename_delete(db: Path, info, user, opened, lg: str, c2, c3) -> None:
    sid = info.id
    with c2.popover(t("pilot.rename", lg)):
        new = st.text_input(t("pilot.scenario_name", lg), value=info.name, key=f"{K}rename.{sid}", max_chars=80)
        if st.button(t("pilot.rename", lg), key=f"{K}rename_go"):
            try:
                scenarios.rename(db, sid, new, by=user, expected_version=info.version, address=address())
                if opened and opened["id"] == sid:
                    opened["name"] = new.strip()
                    opened["version"] = info.version + 1
                st.rerun()
            except PovmapError as exc:
                st.error(exc.message(lg))
    with c3.popover(t("pilot.delete", lg)):
        st.caption(t("pilot.delete_confirm", lg, name=md_text(info.name)))
        if st.button(t("pilot.delete", lg), key=f"{K}delete_go", type="primary"):
            try:
                scenarios.delete(db, sid, by=user, expected_version=info.version, address=address())
            except PovmapError as exc:
                st.error(exc.message(lg))
                return
            if opened and opened["id"] == sid:
                st.session_state.pop(OPENED, None)
            st.rerun()


def _open(db: Path, sid: int) -> None:
    sc = scenarios.load(db, sid)
    frame, settings = Frame.from_dict(sc.frame), pilot.Settings.from_dict(sc.settings)
    st.session_state[PENDING] = widget_values(frame, settings) | {"save_name": sc.name}
    st.session_state[OPENED] = {"id": sc.id, "name": sc.name, "version": sc.version, "frame": frame.as_dict(),
                                "settings": settings.as_dict(),
                                "codes": sc.result["code"].tolist()}
    st.rerun()


def _diff(eng: Engine, db: Path, ids: list[int], label, lg: str) -> None:
    with st.expander(t("pilot.diff", lg)):
        c1, c2 = st.columns(2)
        a = c1.selectbox("A", ids, format_func=label, key=f"{K}diff.a")
        b = c2.selectbox("B", ids, index=1, format_func=label, key=f"{K}diff.b")
        if a == b:
            return
        d = scenarios.diff(scenarios.load(db, a), scenarios.load(db, b))
        st.markdown(t("pilot.diff_summary", lg, both=len(d.both), only_a=len(d.only_a), only_b=len(d.only_b)))
        rc = d.rank_changes.copy()
        name = "name_th" if lg == "th" else "name_en"
        rc.insert(1, "name", eng.names.reindex(rc["code"])[name].to_numpy())
        rc["where"] = [t("pilot.diff.both", lg) if ra == ra and rb == rb else
                       t("pilot.diff.only_a", lg) if ra == ra else t("pilot.diff.only_b", lg)
                       for ra, rb in zip(rc["rank_a"], rc["rank_b"])]
        st.dataframe(rc.rename(columns={"code": t("table.code", lg), "name": t("table.name", lg),
                                        "rank_a": f"{t('pilot.col.rank', lg)} A", "rank_b": f"{t('pilot.col.rank', lg)} B",
                                        "where": t("pilot.diff.where", lg)}), hide_index=True, placeholder=NO_VALUE)


# ---- export ---------------------------------------------------------------------------------
def export_section(eng: Engine, result: pilot.PilotResult, lg: str) -> None:
    st.subheader(t("pilot.export", lg))
    name = _scenario_name(result)
    title = name or t("pilot.unsaved", lg)
    stem = exports.slug(title)
    if not name:
        st.caption(t("pilot.export_unsaved", lg))

    def table():
        out = pilotview.shortlist_display(eng, result, lg)
        return out[out[t("pilot.col.shortlisted", lg)]].drop(columns=[t("pilot.col.shortlisted", lg)])

    def meta():
        return exports.Metadata(title, tuple(pilotview.method_lines(eng, result, lg, scenario=name)))

    def geometries():
        return eng.data.shapes(result.frame.level).set_index("code").geometry

    c1, c2, c3, c4 = st.columns(4)
    _brief(eng, result, lg, c4, title)
    hh = result.frame.dataset == "households"
    c1.download_button("CSV", data=audited(lambda: exports.to_csv(table(), meta()), f"{stem}.csv", hh),
                       file_name=f"{stem}.csv",
                       mime="text/csv", key=f"{K}dl.csv", on_click="ignore", icon=":material/download:")
    c2.download_button("XLSX", data=audited(lambda: exports.to_xlsx(table(), meta(), sheet="shortlist"),
                                            f"{stem}.xlsx", hh), file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{K}dl.xlsx",
                       on_click="ignore", icon=":material/download:")
    c3.download_button("GeoJSON", data=audited(lambda: exports.to_geojson(table(), geometries(), meta(),
                                                                       code_col=t("table.code", lg)),
                                               f"{stem}.geojson", hh),
                       file_name=f"{stem}.geojson", mime="application/geo+json", key=f"{K}dl.geojson",
                       on_click="ignore", icon=":material/download:")


def _brief(eng: Engine, result: pilot.PilotResult, lg: str, col, title: str) -> None:
    """The province brief with this shortlist's areas in it; for a scope of several provinces, of a chosen one
    (those with the most shortlisted areas first)."""
    provinces = [result.frame.scope]
    if len(result.frame.scope) != 2:
        counts = result.shortlist["province"].value_counts()
        provinces = sorted(counts.index, key=lambda c: (-counts[c], c))
        if not provinces:
            return
        name = "name_th" if lg == "th" else "name_en"
        scope_brief_download(col, eng, result, key=f"{K}dl.scope_brief", scenario=title)  # the whole scope
        provinces = [col.selectbox(t("pilot.brief_province", lg), provinces, key=f"{K}brief_province",
                                   format_func=lambda c: t("pilot.brief_choice", lg, name=eng.names.at[c, name],
                                                           count=int(counts[c])))]
    brief_download(col, eng, provinces[0], key=f"{K}dl.brief", shortlist=result.shortlist, scenario=title)


# ---- the address bar ------------------------------------------------------------------------
def open_from_url(db: Path, lg: str) -> None:
    """A link with ?scenario=<id> reopens that saved scenario once per session; a bad id is named and ignored."""
    ss = st.session_state
    if ss.get(K + "url_read"):
        return
    ss[K + "url_read"] = True
    _, ignored = page_params(st.query_params.to_dict(), {"scenario"})  # other parameters, a bad lang
    if ignored:  # set before _open(), which reruns at once
        ss[K + "url_ignored"] = ", ".join(ignored)
    raw = st.query_params.get("scenario")
    if raw is None:
        return
    try:
        _open(db, int(raw) if raw.isdecimal() and len(raw) < 10 else -1)  # "²".isdigit(), but int() fails
    except PovmapError:
        ss[K + "url_ignored"] = ", ".join([*ignored, f"scenario={shown(raw)}"])


def sync_url(result: pilot.PilotResult, lg: str) -> None:
    """The address bar names the open scenario, so the link reopens it exactly."""
    o = st.session_state.get(OPENED)
    want = {"scenario": str(o["id"]), "lang": lg} if o and _scenario_name(result) else {"lang": lg}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)
