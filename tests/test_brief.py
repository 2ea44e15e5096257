"""The area brief PDF: A4, one or two pages, the area's Thai name and headline figures in its text (pdftotext)."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone

import pandas as pd
import pytest

from povmap.core.engine import QueryError
from povmap.core.thai import fmt_number
from povmap.present.brief import area_brief_pdf
from povmap.present.profile import build_profile

pytestmark = [
    pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                       reason="no Chromium (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext (apt-get install poppler-utils)"),
]
WHEN = datetime(2024, 11, 23, 4, 5, tzinfo=timezone.utc)
A4_PT = (595, 842)  # A4 in PostScript points, rounded


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8").split("\f")[:-1]


def page_sizes(pdf: bytes) -> list[tuple[int, int]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(round(float(w)), round(float(h))) for w, h in boxes]


def headline(engine, code: str) -> list[str]:
    """The headline figures as the brief prints them: thousands separators, the rate with 2 decimals."""
    p = build_profile(engine, code)
    return [fmt_number(f.value, 2 if f.key == "rate" else 0) for f in p.figures if f.value is not None]


@pytest.fixture(scope="module")
def kalasin_th(engine) -> bytes:
    return area_brief_pdf(engine, "46", lang="th", when=WHEN)


def test_province_brief_in_thai(engine, kalasin_th):
    assert kalasin_th.startswith(b"%PDF")
    pages = pdf_pages(kalasin_th)
    assert 1 <= len(pages) <= 2
    assert set(page_sizes(kalasin_th)) == {A4_PT}
    text = "\n".join(pages)
    assert "กาฬสินธุ์" in text and "Kalasin" in text
    figures = headline(engine, "46")
    assert len(figures) == 4 and any("," in f for f in figures)
    for f in figures:
        assert f in text, f"headline figure {f} missing"
    assert "23 พ.ย. 2567" in text  # Buddhist Era date
    assert "TPMAP" in text and "Royal Thai Survey Department" in text
    assert "หนองกุงศรี" in text  # the district with the most target poor, at the top of "areas within"


def test_district_brief_in_english_names_the_area_in_both_languages(engine):
    pdf = area_brief_pdf(engine, "4601", lang="en", when=WHEN)
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 2
    text = "\n".join(pages)
    assert "Mueang Kalasin" in text and "เมืองกาฬสินธุ์" in text
    for f in headline(engine, "4601"):
        assert f in text
    assert "2024-11-23" in text


def test_subdistrict_brief_lists_villages(engine):
    p = build_profile(engine, "460102")
    pdf = area_brief_pdf(engine, "460102", lang="th", when=WHEN)
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 2
    text = "\n".join(pages)
    assert p.name_th in text
    assert p.villages.iloc[0]["name_th"] in text


def test_bangkok_brief_says_why_there_is_no_tpmap_data(engine):
    text = "\n".join(pdf_pages(area_brief_pdf(engine, "10", lang="en", when=WHEN)))
    assert "Bangkok" in text and "not in the BMN survey" in text


def test_shortlist_of_a_scenario_is_listed_and_escaped(engine):
    p = build_profile(engine, "46")
    picks = p.children.head(3)["code"].tolist()
    shortlist = pd.DataFrame({"rank": [1, 2, 3, 4], "score": [0.9, 0.8, 0.7, 0.6], "shortlisted": True},
                             index=pd.Index([*picks, "3001"], name="code"))  # 3001 lies outside Kalasin
    pdf = area_brief_pdf(engine, "46", lang="en", shortlist=shortlist, scenario="<b>Round 1</b> & co", when=WHEN)
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 2
    text = "\n".join(pages)
    assert "<b>Round 1</b> & co" in text  # shown as text, never as markup
    assert "3 of the 4 shortlisted areas lie in this area" in text
    names = build_profile(engine, "46").children.set_index("code")["name_en"]
    for code in picks:
        assert names[code] in text


def test_unknown_area_is_refused(engine):
    with pytest.raises(QueryError):
        area_brief_pdf(engine, "99", lang="th")


def test_a_scope_brief_lists_the_whole_shortlist_with_its_provinces(engine):
    """One brief for the SRA-7 shortlist: one map panel per group of near provinces, the shortlisted areas per
    province, every shortlisted area with its district and province; no scope key in the Thai text."""


    from povmap import pilot
    from povmap.pilot.criteria import Frame
    from povmap.present.brief import scope_brief_pdf

    no_am = pd.DataFrame(columns=["manager", "code", "note"], dtype=str)
    res = pilot.run(pilot.criteria_set(engine, Frame(scope="sra7", level="subdistrict"), pilot.DEFAULTS, no_am),
                    pilot.DEFAULTS, with_stability=False)
    pdf = scope_brief_pdf(engine, res, lang="th", scenario="ลองเลือก")
    pages = pdf_pages(pdf)
    assert page_sizes(pdf) == [A4_PT] * len(pages) and len(pages) == 2
    text = " ".join(" ".join(p.split()) for p in pages)
    assert "7 จังหวัด SRA" in text and "ลองเลือก" in text and "sra7" not in text
    assert "ลำปาง" in text and "ปัตตานี · พัทลุง · ยะลา" in text  # the panels' titles
    for code in res.shortlist.index:
        assert engine.names.at[code, "name_th"] in text
        assert engine.names.at[code[:2], "name_th"] in text
