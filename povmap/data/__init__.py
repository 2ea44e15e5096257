"""Where the data comes from: the source folder (``sources``), the installed store (``install``,
``boundaries``, ``store``), datasets users import (``uploads``) and the one factory every face reads through
(``datasource.open_data``).

May import :mod:`povmap.core`.
"""
