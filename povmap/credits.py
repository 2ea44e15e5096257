"""Who each source belongs to and on what terms (the credit and licence lines of each PROVENANCE.md)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credit:
    folder: str
    title_th: str
    title_en: str
    credit: str
    licence: str

    def title(self, lang: str) -> str:
        return self.title_th if lang == "th" else self.title_en


CREDITS: tuple[Credit, ...] = (
    Credit("tpmap-2561", "คนจนเป้าหมาย TPMAP ปี 2561", "TPMAP 2561 target poor",
           "TPMAP, Office of the National Economic and Social Development Council (NESDC) and NECTEC, data year 2561",
           "Not openly licensed: the source repository says \"for study only\". Loaded from your data folder, "
           "never redistributed with povmap."),
    Credit("hdx-cod-ab-tha", "ขอบเขตการปกครอง", "Administrative boundaries",
           "Administrative boundaries: Royal Thai Survey Department, via OCHA / Humanitarian Data Exchange "
           "(cod-ab-tha), CC BY 3.0 IGO; simplified copy from github.com/prasertcbs/thailand_gis.",
           "CC BY 3.0 IGO (upstream)."),
    Credit("dopa-population-ahtambon", "ประชากรตามทะเบียนราษฎร", "Registered population",
           "Department of Provincial Administration (DOPA) registration statistics, compiled in github.com/Ahoerstemeier/tambon",
           "No licence stated; official DOPA statistics."),
    Credit("econvis", "ดัชนีความก้าวหน้าของคน (HAI)", "Human Achievement Index",
           "Human Achievement Index, NESDC; compiled in github.com/phat-ap/econvis (CC0)",
           "Compilation CC0 1.0; the index values are NESDC's."),
)
ADMIN_LIST_CREDIT = "Area codes and names: geothai (PyPI), from DOPA's register"
