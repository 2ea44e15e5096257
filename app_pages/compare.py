"""Compare 2–4 areas of any level side by side."""
from __future__ import annotations

import streamlit as st

from app_pages._compare_view import render_comparison
from app_pages._ui import COMPARE_KEY, COMPARE_MAX, credits_footer, engine, lang, share_link
from povmap.core.i18n import t
from povmap.present.explorer import area_name
from povmap.present.profile import profile_codes, search_areas
from povmap.present.urlstate import page_params, shown

eng = engine()
if eng is None:
    st.stop()
lg = lang()
ss = st.session_state

# The URL (?areas=46,4601) wins over the session's list, so a shared link opens the same comparison.
raw = st.query_params.get("areas", "")
from_url = profile_codes(raw)[:COMPARE_MAX]
_, url_ignored = page_params(st.query_params.to_dict(), {"areas"})  # other parameters, a bad lang
url_ignored += [f"areas={shown(part)}" for part in raw.split(",") if part.strip() and not profile_codes(part)]
url_ignored += [f"areas={code}" for code in profile_codes(raw)[COMPARE_MAX:]]  # beyond the 4 compared
if from_url:
    ss[COMPARE_KEY] = from_url
chosen = list(ss.get(COMPARE_KEY, []))

st.title(t("nav.compare", lg))
if url_ignored:
    st.warning(t("url.ignored", lg, items=", ".join(url_ignored)))
query = st.text_input(t("profile.search", lg), key="compare.search", max_chars=80)
if query.strip():
    hits = [(c, label) for c, label in search_areas(query, lg) if c not in chosen]
    cols = st.columns(min(len(hits), 4) or 1)
    for i, (code, label) in enumerate(hits[:8]):
        if cols[i % len(cols)].button(f"+ {label}", key=f"compare.hit.{code}", disabled=len(chosen) >= COMPARE_MAX):
            chosen.append(code)
            ss[COMPARE_KEY] = chosen
            st.query_params["areas"] = ",".join(chosen)
            st.rerun()
kept = st.multiselect(t("compare.pick", lg), chosen, default=chosen, max_selections=COMPARE_MAX,
                      format_func=lambda c: f"{area_name(eng, c, lg)} ({c})", key=f"compare.chosen.{lg}.{','.join(chosen)}")
if kept != chosen:
    ss[COMPARE_KEY] = kept
    st.query_params["areas"] = ",".join(kept)
    st.rerun()
if chosen:
    st.query_params["areas"] = ",".join(chosen)
if len(chosen) < 2:
    st.info(t("compare.need_two", lg))
    st.stop()

share_link(st, "compare", {"areas": ",".join(chosen), "lang": lg}, key="compare.share")
render_comparison(eng, chosen, lg, key="compare")

if st.button(t("compare.clear", lg)):
    ss[COMPARE_KEY] = []
    st.query_params.clear()
    st.rerun()

credits_footer()
