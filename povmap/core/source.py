"""The data source the engine reads: a typed interface, so every face (pages, command line, exports, benches)
computes from the same kind of object and nothing reaches past it.

:func:`povmap.data.datasource.open_data` gives the one implementation: the installed store's geography with
the counts and household datasets chosen for the view.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd


class DatasetFacts(Protocol):
    """What a view may say about a dataset (never its rows)."""

    id: str
    name: str
    source: str
    licence: str
    synthetic: bool
    builtin: bool


class DataSource(Protocol):
    """Geography, context and the chosen datasets of one view."""

    k: int  # privacy threshold: the fewest households a shown figure may rest on
    counts_info: DatasetFacts
    households_info: DatasetFacts

    @property
    def version(self) -> str:
        """Changes with the store build, either dataset or the privacy threshold: a cache key."""

    @property
    def path(self) -> Path: ...

    @property
    def manifest(self) -> dict: ...

    @property
    def areas(self) -> pd.DataFrame: ...

    def boundaries(self, level: str) -> pd.DataFrame: ...

    def boundary_codes(self, level: str) -> "np.ndarray": ...

    def shapes(self, level: str) -> "gpd.GeoDataFrame": ...

    @property
    def boundary_notes(self) -> pd.DataFrame: ...

    @property
    def population(self) -> pd.DataFrame: ...

    @property
    def hai(self) -> pd.DataFrame: ...

    @property
    def villages(self) -> pd.DataFrame: ...

    @property
    def households_synthetic(self) -> bool: ...

    @property
    def record_key_secret(self) -> bytes:
        """The server's secret behind each household's record key (see :mod:`povmap.core.cellkey`)."""

    @property
    def households(self) -> pd.DataFrame:
        """Household rows, for aggregation on the server only (the change view's transitions read them)."""

    @property
    def household_cells(self) -> pd.DataFrame:
        """The household dataset's cell sums (:func:`povmap.core.cellkey.cell_sums`): every household figure is
        made of them, so a view never needs the rows in memory."""

    def household_tiers(self) -> pd.DataFrame:
        """Each household's id, subdistrict, tier and referral, read for one computation and not kept."""

    def transition_sums(self, earlier: "DataSource") -> pd.DataFrame:
        """The unperturbed transition sums from the ``earlier`` round's households to this one's
        (:func:`povmap.core.transitions.transition_sums`)."""

    def tpmap(self, level: str) -> pd.DataFrame: ...

    def tpmap_base(self, level: str) -> pd.DataFrame: ...
