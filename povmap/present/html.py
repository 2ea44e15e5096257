"""HTML of the exports and legends, rendered from jinja2 templates kept as files in ``templates/`` (package data).

One environment for all of them: autoescaping is on, so every value a template prints is escaped unless it is
already :class:`markupsafe.Markup` (a part rendered by another template, or the map's SVG); and undefined names
are errors (``StrictUndefined``), so a template that names a variable it was not given fails loudly instead of
printing nothing. Pages give text; templates give markup.

``legend.html.j2`` is the one legend: the explorer page and its presentation mode, the map PNG, the area brief and
the pilot page's small maps all render it (:func:`legend_html`), each in its own size and style.
"""
from __future__ import annotations

from collections.abc import Iterable

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from povmap.core.i18n import t
from povmap.core.thai import fmt_number
from povmap.present.explorer import LegendRow, View

ENV = Environment(loader=PackageLoader("povmap.present", "templates"), autoescape=True, undefined=StrictUndefined)
LEGEND_STYLES = ("export", "page", "small")


def render(template: str, /, **context) -> Markup:
    """The template ``templates/<template>`` rendered with ``context`` (escaped), as markup to embed or send."""
    return Markup(ENV.get_template(template).render(**context))


def hex_colour(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb[:3]))


def legend_html(rows: Iterable[LegendRow], *, lang: str, style: str, title: str | None = None,
                size: str = "1em") -> Markup:
    """The legend: a swatch, a label and a count per row; with ``title`` also a heading and the no-data note.

    ``style``: "export" (the map PNG and the brief, laid out by their page's CSS classes), "page" (the explorer,
    inline styles; ``size`` is its font size) or "small" (the pilot page's small maps: the rows in a line, no heading).
    """
    if style not in LEGEND_STYLES:
        raise ValueError(f"legend style {style!r} is none of {LEGEND_STYLES}")
    items = [{"colour": hex_colour(r.color), "label": r.label,
              "count": t("legend.n_areas", lang, count=r.count) if style != "small" else fmt_number(r.count)}
             for r in rows]
    return render("legend.html.j2", style=style, rows=items, size=size,
                  heading=t("legend.title", lang) if title is not None else None, title=title,
                  note=t("legend.note", lang) if title is not None else None)


def headline_html(items) -> Markup:
    """The explorer's first figures (:func:`povmap.present.explorer.headline`) as cards."""
    return render("headline.html.j2", items=items)


def view_legend(view: View, lang: str, *, style: str, size: str = "1em") -> Markup:
    """The legend of a map view, headed by the view's title (the explorer page, the map PNG, the brief)."""
    return legend_html(view.legend, lang=lang, style=style, title=view.title, size=size)
