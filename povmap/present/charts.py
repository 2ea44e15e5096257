"""Plotly charts for profiles and comparisons, with the Thai font set explicitly."""
from __future__ import annotations

import plotly.graph_objects as go

from povmap.core.i18n import t
from povmap.core.thai import buddhist_year
from povmap.core.vocab import CAPITALS, DIMENSIONS, TIERS

FONT = "Sarabun, 'Noto Sans Thai', 'Laksaman', sans-serif"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
TIER_COLORS = ("#b2182b", "#ef8a62", "#67a9cf", "#2166ac")


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(title=dict(text=title, font=dict(size=16)), font=dict(family=FONT, size=13),
                      height=height, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.15),
                      paper_bgcolor="white", plot_bgcolor="white")
    fig.update_xaxes(automargin=True, title_standoff=8)
    fig.update_yaxes(automargin=True)
    return fig


def _name(p, lang: str) -> str:
    return p.name_th if lang == "th" else p.name_en


def dimension_bars(profiles: list, lang: str) -> go.Figure:
    """Share of each area's target poor with a problem in each dimension (they overlap)."""
    fig = go.Figure()
    labels = [d.label(lang) for d in DIMENSIONS]
    for i, p in enumerate(profiles):
        d = p.dimensions.set_index("key").reindex([x.key for x in DIMENSIONS])
        fig.add_bar(y=labels, x=d["share"], orientation="h", name=_name(p, lang), marker_color=SERIES[i % len(SERIES)],
                    customdata=d["people"], hovertemplate="%{y}: %{x:.1f}% (%{customdata:,.0f})<extra>%{fullData.name}</extra>")
    fig.update_xaxes(title=t("chart.share_of_poor", lang), ticksuffix="%", gridcolor="#eee")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(barmode="group", showlegend=len(profiles) > 1)
    return _layout(fig, t("chart.dimensions", lang), 260 + 40 * len(profiles))


def capital_radar(series: list[tuple[str, list[float]]], lang: str) -> go.Figure:
    """The 5 capitals (1–4) as a pentagon per series: [(name, [human, physical, financial, natural, social])].

    Overlaid pentagons must stay apart: the first is filled, the others are outlines, each in its own dash."""
    theta = [c.label(lang) for c in CAPITALS]
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, (name, values) in enumerate(series):
        fig.add_scatterpolar(r=list(values) + [values[0]], theta=theta + [theta[0]], name=name,
                             fill="toself" if i == 0 else "none", opacity=0.8 if i == 0 else 1.0, mode="lines+markers",
                             line=dict(color=SERIES[i % len(SERIES)], width=2.5, dash=dashes[i % len(dashes)]))
    fig.update_polars(radialaxis=dict(range=[1, 4], tickvals=[1, 2, 3, 4]))
    return _layout(fig, t("chart.capitals", lang), 360)


def tier_bars(series: list[tuple[str, list[float]]], lang: str, *, k: int) -> go.Figure:
    """Tier shares (%) as stacked horizontal bars: [(name, [tier1, tier2, tier3, tier4])]. A share hidden for
    privacy (NaN) is one grey segment at the end, named, so the bar still reaches 100 %."""
    fig = go.Figure()
    names = [name for name, _ in series]
    for n, tier in enumerate(TIERS):
        fig.add_bar(y=names, x=[s[n] for _, s in series], orientation="h", name=f"{tier.number} {tier.label(lang)}",
                    marker_color=TIER_COLORS[n], hovertemplate="%{y}: %{x:.1f}%<extra>%{fullData.name}</extra>")
    hidden = [100 - sum(v for v in s if v == v) if any(v != v for v in s) else 0 for _, s in series]
    if any(hidden):
        fig.add_bar(y=names, x=hidden, orientation="h", name=t("legend.hidden", lang, k=k),
                    marker_color="#d6dce8", hovertemplate="%{y}: %{x:.1f}%<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("chart.tiers", lang), 200 + 40 * len(series))


def population_line(population, lang: str) -> go.Figure:
    years = [buddhist_year(y) if lang == "th" else int(y) for y in population["year"]]
    fig = go.Figure(go.Scatter(x=years, y=population["population"], mode="lines+markers",
                               line=dict(color=SERIES[0]), hovertemplate="%{x}: %{y:,.0f}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=years, title=t("chart.year_be" if lang == "th" else "chart.year", lang))
    fig.update_yaxes(tickformat=",", gridcolor="#eee")
    return _layout(fig, t("chart.population", lang), 260)


def hai_line(hai, lang: str) -> go.Figure:
    years = [buddhist_year(y) if lang == "th" else int(y) for y in hai["year"]]
    fig = go.Figure(go.Scatter(x=years, y=hai["hai"], mode="lines+markers+text", text=[f"#{r}" for r in hai["rank"]],
                               textposition="top center", line=dict(color=SERIES[2]), cliponaxis=False,
                               hovertemplate="%{x}: %{y:.3f} (%{text})<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=years, title=t("chart.year_be" if lang == "th" else "chart.year", lang))
    fig.update_yaxes(gridcolor="#eee")
    return _layout(fig, t("chart.hai", lang), 260)


def stability_bars(names: list[str], stay_share: list[float], depends_on: list[str], fragile_below: float,
                   lang: str) -> go.Figure:
    """How often each shortlisted area stays shortlisted when the weights are perturbed.

    Blue: robust; orange: in only because of one criterion (named on the bar); red: stays in too few draws."""
    colors = [SERIES[5] if s < fragile_below else SERIES[1] if d else SERIES[0] for s, d in zip(stay_share, depends_on)]
    fig = go.Figure(go.Bar(y=names, x=[100 * s for s in stay_share], orientation="h", marker_color=colors,
                           text=[f"← {d}" if d else "" for d in depends_on], textposition="inside", insidetextanchor="end",
                           hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    fig.update_layout(uniformtext_minsize=12, uniformtext_mode="show")  # a name on a bar is never shrunk to 8 px
    fig.add_vline(x=100 * fragile_below, line_dash="dot", line_color="#888")
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title=t("pilot.col.stay_share", lang), gridcolor="#eee")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("pilot.robustness_chart", lang), 140 + 22 * len(names))
