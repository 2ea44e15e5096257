"""The map component's side on the server: the per-rerun map arguments and geometry chunks
(``maplayer``) and the static web folder the browser fetches them from (``mapweb``).

May import :mod:`povmap.core`.
"""
