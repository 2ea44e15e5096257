"""The map component's side on the server: the per-rerun map arguments (``maplayer``), the geometry files with
their triangles (``geometry``) and the static web folder the browser fetches them from (``mapweb``).

May import :mod:`povmap.core`.
"""
