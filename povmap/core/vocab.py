"""The domain's vocabulary: levels, datasets, dimensions, indicators, tiers, capitals, metrics.

Every concept has one key here, used unchanged in code, UI state, the CLI and tests.
Labels are bilingual (``th``/``en``); the UI reads them through :func:`label`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    key: str
    th: str
    en: str

    def label(self, lang: str) -> str:
        return self.th if lang == "th" else self.en


@dataclass(frozen=True)
class Level(Term):
    code_len: int


LEVELS: tuple[Level, ...] = (
    Level("province", "จังหวัด", "Province", 2),
    Level("district", "อำเภอ", "District", 4),
    Level("subdistrict", "ตำบล", "Subdistrict", 6),
)
LEVEL_KEYS = tuple(lv.key for lv in LEVELS)
LEVEL_BY_KEY = {lv.key: lv for lv in LEVELS}
LEVEL_BY_LEN = {lv.code_len: lv.key for lv in LEVELS}


def level_of(code: str) -> str:
    """Level of a DOPA code from its length (2/4/6 digits)."""
    try:
        return LEVEL_BY_LEN[len(code)]
    except KeyError:
        raise ValueError(f"not a DOPA area code: {code!r}") from None


def levels_below(parent: str | None) -> list[str]:
    """The levels a view can show inside ``parent`` (all three for the whole country)."""
    if not parent:
        return list(LEVEL_KEYS)
    return list(LEVEL_KEYS[LEVEL_KEYS.index(level_of(parent)) + 1:])


def child_level(level: str) -> str | None:
    i = LEVEL_KEYS.index(level)
    return LEVEL_KEYS[i + 1] if i + 1 < len(LEVEL_KEYS) else None


DATASETS: tuple[Term, ...] = (
    Term("tpmap", "คนจนเป้าหมาย TPMAP 2561", "TPMAP target poor 2561"),
    Term("households", "ครัวเรือนยากจน (PPAOS)", "Households (PPAOS)"),
)
DATASET_KEYS = tuple(d.key for d in DATASETS)


@dataclass(frozen=True)
class Dimension(Term):
    tpmap_column: str  # the dimension's name in TPMAP's files


# Order matters: it is the bit order of TPMAP's 5-character combo strings.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("health", "ด้านสุขภาพ", "Health", "health"),
    Dimension("living", "ด้านความเป็นอยู่", "Living conditions", "living"),
    Dimension("education", "ด้านการศึกษา", "Education", "education"),
    Dimension("income", "ด้านรายได้", "Income", "income"),
    Dimension("access", "ด้านการเข้าถึงบริการรัฐ", "Access to public services", "accessibility"),
)
DIMENSION_KEYS = tuple(d.key for d in DIMENSIONS)
DIMENSION_BY_KEY = {d.key: d for d in DIMENSIONS}


def combo_of(dimensions) -> str:
    """TPMAP combo string (5 bits, health..access) for a set of dimension keys."""
    dims = set(dimensions)
    unknown = dims - set(DIMENSION_KEYS)
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(sorted(unknown))}")
    if not dims:
        raise ValueError("select at least one dimension")
    return "".join("1" if k in dims else "0" for k in DIMENSION_KEYS)


@dataclass(frozen=True)
class Indicator(Term):
    number: int  # the จปฐ. 31-indicator number
    dimension: str
    tpmap_label: str


# The 17 indicators TPMAP uses (domain.md; numbers are จปฐ. numbers).
INDICATORS: tuple[Indicator, ...] = (
    Indicator("ind1", "เด็กแรกเกิดมีน้ำหนัก 2,500 กรัมขึ้นไป", "Birth weight ≥ 2,500 g", 1, "health", "1.1"),
    Indicator("ind4", "ครัวเรือนกินอาหารถูกสุขลักษณะ ปลอดภัย", "Safe, hygienic food", 4, "health", "1.2"),
    Indicator("ind5", "ครัวเรือนใช้ยาเพื่อบำบัดเบื้องต้นอย่างเหมาะสม", "Proper use of medicine", 5, "health", "1.3"),
    Indicator("ind7", "คนอายุ 6 ปีขึ้นไปออกกำลังกาย", "Exercise (age 6+)", 7, "health", "1.4"),
    Indicator("ind8", "ความมั่นคงในที่อยู่อาศัย บ้านคงทนถาวร", "Secure, durable housing", 8, "living", "2.1"),
    Indicator("ind9", "น้ำสะอาดสำหรับดื่มเพียงพอ", "Drinking water", 9, "living", "2.2"),
    Indicator("ind10", "น้ำใช้เพียงพอตลอดปี", "Water for use", 10, "living", "2.3"),
    Indicator("ind11", "บ้านเรือนเป็นระเบียบ สะอาด ถูกสุขลักษณะ", "Tidy, hygienic home", 11, "living", "2.4"),
    Indicator("ind15", "เด็ก 3–5 ปีได้รับการเตรียมความพร้อมก่อนวัยเรียน", "Pre-school care (3–5)", 15, "education", "3.1"),
    Indicator("ind16", "เด็ก 6–14 ปีได้รับการศึกษาภาคบังคับ 9 ปี", "Compulsory schooling (6–14)", 16, "education", "3.2"),
    Indicator("ind17", "เด็กจบ ม.3 ได้เรียนต่อ ม.4 หรือเทียบเท่า", "Continue to M.4", 17, "education", "3.3"),
    Indicator("ind19", "คนอายุ 15–59 ปีอ่านเขียนภาษาไทยและคิดเลขได้", "Literacy (15–59)", 19, "education", "3.4"),
    Indicator("ind20", "คนอายุ 15–59 ปีมีอาชีพและรายได้", "Occupation and income (15–59)", 20, "income", "4.1"),
    Indicator("ind21", "คนอายุ 60 ปีขึ้นไปมีอาชีพและรายได้", "Occupation and income (60+)", 21, "income", "4.2"),
    Indicator("ind22", "รายได้เฉลี่ยของคนในครัวเรือนต่อปี", "Average household income", 22, "income", "4.3"),
    Indicator("ind27", "ผู้สูงอายุได้รับการดูแล", "Care for the elderly", 27, "access", "5.1"),
    Indicator("ind28", "ผู้พิการได้รับการดูแล", "Care for the disabled", 28, "access", "5.2"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)
INDICATOR_BY_KEY = {i.key: i for i in INDICATORS}


@dataclass(frozen=True)
class Tier(Term):
    number: int
    meaning_th: str
    meaning_en: str


TIERS: tuple[Tier, ...] = (
    Tier("1", "อยู่ลำบาก", "In hardship", 1, "ต้องช่วยเหลือเร่งด่วน", "urgent help"),
    Tier("2", "อยู่ยาก", "Struggling", 2, "ยากลำบาก", "struggling"),
    Tier("3", "อยู่พอได้", "Getting by", 3, "พอเลี้ยงตัวได้", "getting by"),
    Tier("4", "อยู่ดี", "Well", 4, "อยู่ดี", "well"),
)
TIER_NUMBERS = tuple(t.number for t in TIERS)
# Upper bounds of tiers 1-3 on the mean capital score. A mean exactly on a cut-point
# belongs to the LOWER tier (domain.md gives "≤ 1.75" for tier 1 and "> 3.25" for tier 4).
TIER_CUTS = (1.75, 2.50, 3.25)

CAPITALS: tuple[Term, ...] = (
    Term("human", "ทุนมนุษย์", "Human"),
    Term("physical", "ทุนกายภาพ", "Physical"),
    Term("financial", "ทุนการเงิน", "Financial"),
    Term("natural", "ทุนทรัพยากรธรรมชาติ", "Natural"),
    Term("social", "ทุนสังคม", "Social"),
)
CAPITAL_KEYS = tuple(c.key for c in CAPITALS)


@dataclass(frozen=True)
class Metric(Term):
    unit_th: str
    unit_en: str
    is_count: bool  # counts add up across areas; rates do not


METRICS: tuple[Metric, ...] = (
    Metric("people", "จำนวนคนจนเป้าหมาย", "Target poor (people)", "คน", "people", True),
    Metric("rate", "อัตราคนจน (% ของผู้ถูกสำรวจ)", "Rate (% of surveyed people)", "%", "%", False),
    Metric("share", "สัดส่วนของคนจนในขอบเขต (%)", "Share of the scope's target poor (%)", "%", "%", False),
    Metric("per1000", "คนจนต่อประชากร 1,000 คน", "Target poor per 1,000 residents", "ต่อ 1,000", "per 1,000", False),
    Metric("households", "จำนวนครัวเรือน", "Households", "ครัวเรือน", "households", True),
    Metric("members", "จำนวนสมาชิกครัวเรือน", "Household members", "คน", "people", True),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}
DATASET_METRICS = {
    "tpmap": ("people", "rate", "share", "per1000", "households"),
    "households": ("households", "members", "share"),
}
# Whether a view of the dataset offers a choice of dimensions. Household figures count households deprived in
# at least one dimension: two views with other choices could be subtracted to single out a few households
# (povmap.core.cellkey). TPMAP's figures are public and exact.
DIMENSION_CHOICE = {"tpmap": True, "households": False}
# The households dataset's "share" is the share of an area's households that pass the filter.
HOUSEHOLD_SHARE = Term("share", "สัดส่วนครัวเรือนในกลุ่มที่เลือก (%)", "Share of households in the selected tiers (%)")


def metrics_for(dataset: str, indicator: str | None = None) -> list[str]:
    """Metrics a view offers; TPMAP has no household count per indicator."""
    return [m for m in DATASET_METRICS[dataset] if not (indicator and m == "households")]


def metric_label(dataset: str, metric: str, lang: str) -> str:
    if dataset == "households" and metric == "share":
        return HOUSEHOLD_SHARE.label(lang)
    return METRIC_BY_KEY[metric].label(lang)


SCOPE_GROUPS: tuple[Term, ...] = (
    Term("all", "ทั้งประเทศ", "All of Thailand"),
    Term("ppaos20", "20 จังหวัดนำร่อง PPAOS", "20 PPAOS pilot provinces"),
    Term("sra7", "7 จังหวัด SRA", "7 SRA provinces"),
)
SCOPE_GROUP_KEYS = tuple(s.key for s in SCOPE_GROUPS)
SCOPE_GROUP_BY_KEY = {s.key: s for s in SCOPE_GROUPS}

CLASS_SCHEMES: tuple[Term, ...] = (
    Term("quantiles", "ควอนไทล์ (จำนวนพื้นที่เท่ากัน)", "Quantiles (equal counts)"),
    Term("fisher_jenks", "แบ่งตามธรรมชาติ (Fisher-Jenks)", "Natural breaks (Fisher-Jenks)"),
    Term("equal_interval", "ช่วงเท่ากัน", "Equal interval"),
)
CLASS_SCHEME_KEYS = tuple(s.key for s in CLASS_SCHEMES)


@dataclass(frozen=True)
class Criterion(Term):
    group: str  # concentration | clustering | depth | trend | coverage | readiness
    how_th: str
    how_en: str

    def how(self, lang: str) -> str:
        return self.how_th if lang == "th" else self.how_en


# Pilot-area criteria (issue 3; derivations in povmap/pilot/criteria.py and docs/pilot-method.md).
# Every criterion reads "higher = more reason to choose the area".
CRITERIA: tuple[Criterion, ...] = (
    Criterion("count", "จำนวนคนจน", "Number of poor", "concentration",
              "จำนวนคนจนเป้าหมาย (หรือครัวเรือนที่เข้าเกณฑ์) ในพื้นที่",
              "target poor (or households passing the filter) in the area"),
    Criterion("rate", "อัตราคนจน (%)", "Poverty rate (%)", "concentration",
              "TPMAP: คนจนเป้าหมาย ÷ ผู้ถูกสำรวจ จปฐ.; ครัวเรือน: สมาชิกครัวเรือนที่เข้าเกณฑ์ ÷ ประชากรตามทะเบียน 2564",
              "TPMAP: target poor ÷ people surveyed (BMN); households: members of selected households ÷ registered residents 2021"),
    Criterion("share", "สัดส่วนของคนจนในขอบเขต (%)", "Share of the scope's poor (%)", "concentration",
              "คนจนของพื้นที่ ÷ คนจนทั้งหมดในขอบเขต (จัดอันดับเหมือนจำนวนคนจนภายในขอบเขตเดียวกัน)",
              "the area's poor ÷ all poor of the scope (ranks exactly like the count within one scope)"),
    Criterion("lisa", "กลุ่มสูง–สูง (LISA)", "High-High cluster (LISA)", "clustering",
              "1 เมื่อเป็นกลุ่มสูง–สูงที่มีนัยสำคัญของอัตราคนจน (Local Moran's I) มิฉะนั้น 0",
              "1 when the area is a significant High-High cluster of the rate (Local Moran's I), else 0"),
    Criterion("gistar", "จุดร้อน (Gi*)", "Hot spot (Gi*)", "clustering",
              "1 เมื่อเป็นจุดร้อนที่มีนัยสำคัญของอัตราคนจน (Getis-Ord Gi*) มิฉะนั้น 0",
              "1 when the area is a significant hot spot of the rate (Getis-Ord Gi*), else 0"),
    Criterion("depth", "ความลึกของความยากจน", "Depth of poverty", "depth",
              "จำนวนมิติเฉลี่ย (ในมิติที่เลือก) ที่คนจน/ครัวเรือนยากจนขาด",
              "mean number of the chosen dimensions each poor person or household fails"),
    Criterion("tier1", "สัดส่วนกลุ่มอยู่ลำบาก (%)", "Share in hardship, tier 1 (%)", "depth",
              "ครัวเรือนกลุ่มอยู่ลำบาก ÷ ครัวเรือนที่เข้าเกณฑ์",
              "tier-1 households ÷ selected households"),
    Criterion("trend", "อัตราคนจนที่เพิ่มขึ้น (จุด)", "Rise in the poverty rate (points)", "trend",
              "อัตราคนจนในรอบหลัง ลบ อัตราในรอบก่อน (มีเมื่อเลือกเทียบกับอีกรอบ) เพิ่มขึ้นมาก = เหตุผลที่จะเลือกมาก",
              "the rate in the later round minus the rate in the earlier one (when another round is chosen): a larger "
              "rise, more reason to choose the area"),
    Criterion("coverage", "มีผู้จัดการพื้นที่", "Area Manager present", "coverage",
              "1 เมื่อมีผู้จัดการพื้นที่ (มหาวิทยาลัย/หน่วยงาน) ทำงานในพื้นที่แล้ว มิฉะนั้น 0",
              "1 when an Area Manager (university or agency) already works in the area, else 0"),
    Criterion("readiness", "ความพร้อมของข้อมูล", "Data readiness", "readiness",
              "TPMAP: ผู้ถูกสำรวจ ÷ ประชากรตามทะเบียน (ไม่เกิน 1); ครัวเรือน: เฉลี่ยของค่านั้นกับสัดส่วนระเบียนที่ครบถ้วน",
              "TPMAP: people surveyed ÷ registered residents (at most 1); households: mean of that and the share of complete records"),
)
CRITERION_KEYS = tuple(c.key for c in CRITERIA)
CRITERION_BY_KEY = {c.key: c for c in CRITERIA}
NORMALISATIONS: tuple[Term, ...] = (
    Term("percentile", "อันดับเปอร์เซ็นไทล์", "Percentile rank"),
    Term("minmax", "ต่ำสุด–สูงสุด (min–max)", "Min–max"),
)
