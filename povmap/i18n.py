"""The UI's string catalogue: every label and message in Thai and English, in one place."""
from __future__ import annotations

LANGS = ("th", "en")
DEFAULT_LANG = "th"

CATALOGUE: dict[str, tuple[str, str]] = {
    # app shell
    "app.title": ("แผนที่ความยากจนประเทศไทย", "Thailand poverty map"),
    "app.language": ("ภาษา", "Language"),
    "nav.explorer": ("แผนที่ความยากจน", "Poverty map"),
    "nav.sources": ("แหล่งข้อมูล", "Data sources"),
    # first run / errors
    "firstrun.title": ("ยังไม่มีคลังข้อมูล", "No data store yet"),
    "firstrun.body": (
        "แอปต้องมีคลังข้อมูลในเครื่องซึ่งสร้างจากโฟลเดอร์ข้อมูลต้นทาง (ค่าเริ่มต้น `../shared/data`) "
        "ให้รันคำสั่งด้านล่างหนึ่งครั้ง แล้วโหลดหน้านี้ใหม่",
        "The app needs a local data store built from a source folder (by default `../shared/data`). "
        "Run the command below once, then reload this page.",
    ),
    "firstrun.problem": ("ปัญหาที่พบ", "What went wrong"),
    "error.query": ("ตัวเลือกไม่ถูกต้อง", "Invalid choice"),
    # explorer controls
    "ctl.dataset": ("ชุดข้อมูล", "Dataset"),
    "ctl.scope": ("ขอบเขต", "Scope"),
    "ctl.scope.one": ("จังหวัดเดียว", "One province"),
    "ctl.province": ("จังหวัด", "Province"),
    "ctl.level": ("ระดับที่แสดง", "Level shown"),
    "ctl.view": ("มุมมอง", "View"),
    "ctl.view.dimensions": ("มิติ", "Dimensions"),
    "ctl.view.indicator": ("ตัวชี้วัด", "Indicator"),
    "ctl.dimensions": ("มิติที่ขาด (เข้าเกณฑ์ถ้าขาดอย่างน้อยหนึ่งมิติ)", "Deprived in (any of)"),
    "ctl.indicator": ("ตัวชี้วัด จปฐ.", "BMN indicator"),
    "ctl.tiers": ("กลุ่มครัวเรือน", "Household tiers"),
    "ctl.metric": ("ค่าที่แสดง", "Metric"),
    "ctl.scheme": ("การแบ่งช่วงสี", "Classification"),
    "ctl.k": ("จำนวนช่วง", "Classes"),
    "ctl.pick_one": ("เลือกอย่างน้อยหนึ่งรายการ", "Select at least one"),
    # explorer body
    "crumb.thailand": ("ประเทศไทย", "Thailand"),
    "crumb.hint": ("คลิกพื้นที่บนแผนที่หรือในตารางเพื่อเจาะลึก", "Click an area on the map or in the table to drill down"),
    "kpi.in_view": ("ในแผนที่นี้", "On this map"),
    "kpi.not_on_map": ("วางบนแผนที่ไม่ได้", "Not on this map"),
    "kpi.source_total": ("ยอดรวมตามแหล่งข้อมูล", "Source total"),
    "kpi.areas": ("พื้นที่", "Areas"),
    "unit.people": ("คน", "people"),
    "unit.households": ("ครัวเรือน", "households"),
    "unit.members": ("คน", "members"),
    "legend.title": ("คำอธิบายสี", "Legend"),
    "legend.no_data": ("ไม่มีข้อมูล", "No data"),
    "legend.areas": ("พื้นที่", "areas"),
    "legend.note": ("ช่วงรวมค่าขอบบน; สีเทา = ไม่มีข้อมูล (ต่างจากศูนย์)",
                    "Classes include their upper bound; grey = no data (not zero)"),
    "table.title": ("อันดับพื้นที่", "Areas ranked"),
    "table.rank": ("อันดับ", "Rank"),
    "table.code": ("รหัส", "Code"),
    "table.name": ("ชื่อ", "Name"),
    "table.count": ("จำนวน", "Count"),
    "table.hint": ("คลิกแถวเพื่อเจาะลึก", "Click a row to drill down"),
    "selected": ("พื้นที่ที่เลือก", "Selected area"),
    "unplaced.title": ("สิ่งที่ไม่อยู่บนแผนที่นี้", "Not on this map"),
    "unplaced.none": ("ทุกหน่วยในแหล่งข้อมูลอยู่บนแผนที่นี้", "Every source unit is on this map"),
    "unplaced.reconcile": ("บนแผนที่ {placed} + วางไม่ได้ {unplaced} = ยอดรวมแหล่งข้อมูล {total} {unit}",
                           "On the map {placed} + not placed {unplaced} = source total {total} {unit}"),
    "unplaced.rows": ("หน่วยที่มีตัวเลขแต่ไม่มีรูปแปลงบนแผนที่", "Units with figures but no polygon on this map"),
    "unplaced.no_data": ("พื้นที่บนแผนที่ที่ไม่มีข้อมูล", "Areas on the map without data"),
    "unplaced.reason": ("เหตุผล", "Reason"),
    "unplaced.count": ("จำนวน", "Count"),
    "unplaced.value": ("ค่า", "Value"),
    "unplaced.areas": ("จำนวนพื้นที่", "Areas"),
    "reason.not_surveyed": ("กรุงเทพมหานครไม่อยู่ในการสำรวจ จปฐ. (ไม่มีข้อมูล ไม่ใช่ศูนย์)",
                            "Bangkok is not in the BMN survey (no data, not zero)"),
    "reason.not_dopa_code": ("รหัสของ TPMAP ไม่ใช่รหัสตำบลของกรมการปกครอง (เลขตำบล 50–99 น่าจะเป็นเขตเทศบาล) นับรวมในอำเภอแล้ว",
                             "TPMAP code is not a DOPA subdistrict code (digits 50–99, likely a municipal area); counted in its district"),
    "reason.no_polygon": ("รหัสถูกต้องแต่ไม่มีรูปแปลงขอบเขต", "Valid code without a boundary polygon"),
    "reason.no_source_row": ("แหล่งข้อมูลไม่มีแถวของรหัสนี้ (ประชากรอาจถูกนับในหน่วยเทศบาลของอำเภอ)",
                             "The source has no row for this code (its people are probably counted under a municipal unit of the district)"),
    "reason.outside_household_file": ("อยู่นอกพื้นที่ของไฟล์ครัวเรือน (20 จังหวัด PPAOS)",
                                      "Outside the household file's coverage (the 20 PPAOS provinces)"),
    "synthetic.badge": ("ข้อมูลสังเคราะห์ — ไม่ใช่ครัวเรือนจริง", "SYNTHETIC data — not real households"),
    "synthetic.note": (
        "ไฟล์ครัวเรือนนี้สร้างขึ้นโดยโปรแกรม (seed {seed}) ให้มีจำนวนรวมเท่ากับตัวเลข PPAOS ที่เผยแพร่ "
        "({households} ครัวเรือน, {members} คน) และกระจายตามครัวเรือนยากจนของ TPMAP ใช้เพื่อสาธิตเท่านั้น",
        "This household file is generated (seed {seed}) to match the published PPAOS totals "
        "({households} households, {members} members), spread like TPMAP's poor households. For demonstration only.",
    ),
    "indicator.note": ("คนจนเป้าหมายที่ไม่ผ่านตัวชี้วัดนี้ (ชุดมิติทั้ง 5)",
                       "Target poor failing this indicator (all 5 dimensions)"),
    "dims.note": ("นับคนที่ขาดอย่างน้อยหนึ่งมิติที่เลือก ตามชุดมิติของ TPMAP (ไม่ใช่ผลรวมของมิติ)",
                  "Counts people deprived in at least one selected dimension, from TPMAP's exact combinations (not a sum of dimensions)"),
    "credits.title": ("แหล่งข้อมูลและสัญญาอนุญาต", "Sources and licences"),
    "sources.coverage": ("การจับคู่รหัสกับ geothai", "Code coverage against geothai"),
    "sources.store": ("คลังข้อมูล", "Data store"),
    "sources.boundary_notes": ("หมายเหตุขอบเขตการปกครอง", "Boundary notes"),
    "sources.groups": ("กลุ่มจังหวัด (แก้ไขได้ใน data/province_groups.csv)", "Province groups (editable in data/province_groups.csv)"),
    "cov.level": ("ระดับ", "Level"),
    "cov.tpmap_codes": ("รหัสใน TPMAP", "TPMAP codes"),
    "cov.matched": ("ตรงกับ geothai", "On geothai"),
    "cov.placed": ("วางบนแผนที่ได้", "Placed on a polygon"),
    "cov.unplaced": ("วางไม่ได้", "Not placeable"),
    "cov.unplaced_people": ("คนจนในหน่วยที่วางไม่ได้", "Target poor in those"),
    "cov.geothai_without_row": ("รหัส geothai ที่ไม่มีแถว TPMAP", "geothai codes without a TPMAP row"),
    "note.issue": ("ประเด็น", "Issue"),
    "note.detail": ("รายละเอียด", "Detail"),
    "note.dropped_polygon": ("ตัดรูปแปลงของรหัสที่ยกเลิก", "Abolished code's polygon dropped"),
    "note.recoded_successor": ("ใช้รหัสใหม่แทนรหัสที่ยกเลิก", "Drawn under its successor code"),
    "note.no_polygon": ("ไม่มีรูปแปลง", "No polygon"),
}


def t(key: str, lang: str, **kw) -> str:
    """The catalogue string for ``key`` in ``lang``, formatted with ``kw``."""
    th, en = CATALOGUE[key]
    text = th if lang == "th" else en
    return text.format(**kw) if kw else text
