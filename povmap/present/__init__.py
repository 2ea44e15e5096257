"""What people see and take away: the explorer, profile and pilot view models, charts, credits,
URL state, tables for the command line, and the exports (CSV/XLSX/GeoJSON, map PNG, area brief PDF rendered
by headless Chromium). Their HTML, and every legend's, comes from the jinja2 templates in ``templates/``
(autoescaped; see :mod:`povmap.present.html`).

May import :mod:`povmap.core`, :mod:`povmap.data`, :mod:`povmap.userdb`, :mod:`povmap.pilot` and
:mod:`povmap.web`; only :mod:`povmap.cli` and the pages import it.
"""
