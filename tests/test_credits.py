"""The sources are credited as their provenance asks, in both languages."""
from __future__ import annotations

from povmap.present.credits import CREDITS


def test_the_boundary_attribution_reads_as_provenance_asks_once():
    [c] = [c for c in CREDITS if c.folder == "hdx-cod-ab-tha"]
    line = f"{c.title('en')}: {c.credit_text('en')}."
    assert line == ("Administrative boundaries: Royal Thai Survey Department, via OCHA / Humanitarian Data Exchange "
                    "(cod-ab-tha), CC BY 3.0 IGO; simplified copy from github.com/prasertcbs/thailand_gis.")
    assert not any(x.credit_text(lang).endswith(".") for x in CREDITS for lang in ("th", "en"))  # no ".." after it
