"""Who each source belongs to and on what terms (the credit and licence lines of each PROVENANCE.md)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credit:
    folder: str
    title_th: str
    title_en: str
    credit: str  # the attribution line, as the source asks for it (kept in its own wording)
    licence: str
    licence_th: str
    credit_th: str  # the same attribution in Thai, for the Thai pages

    def title(self, lang: str) -> str:
        return self.title_th if lang == "th" else self.title_en

    def credit_text(self, lang: str) -> str:
        """The attribution in ``lang``, without a closing full stop (callers end their sentence)."""
        return (self.credit_th if lang == "th" else self.credit).rstrip(".")

    def licence_text(self, lang: str) -> str:
        return self.licence_th if lang == "th" else self.licence


CREDITS: tuple[Credit, ...] = (
    Credit("tpmap-2561", "คนจนเป้าหมาย TPMAP ปี 2561", "TPMAP 2561 target poor",
           "TPMAP, Office of the National Economic and Social Development Council (NESDC) and NECTEC, data year 2561",
           "Not openly licensed: the source repository says \"for study only\". Loaded from your data folder, "
           "never redistributed with povmap.",
           "ไม่ใช่สัญญาอนุญาตแบบเปิด (ต้นทางระบุว่าใช้เพื่อการศึกษาเท่านั้น) โหลดจากโฟลเดอร์ข้อมูลของผู้ใช้ ไม่แจกจ่ายไปกับ povmap",
           "TPMAP สำนักงานสภาพัฒนาการเศรษฐกิจและสังคมแห่งชาติ (สศช., NESDC) และ NECTEC ข้อมูลปี 2561"),
    Credit("hdx-cod-ab-tha", "ขอบเขตการปกครอง", "Administrative boundaries",
           # shown after its title, this is the attribution PROVENANCE.md asks for, word for word
           "Royal Thai Survey Department, via OCHA / Humanitarian Data Exchange "
           "(cod-ab-tha), CC BY 3.0 IGO; simplified copy from github.com/prasertcbs/thailand_gis",
           "CC BY 3.0 IGO (upstream).", "สัญญาอนุญาต CC BY 3.0 IGO (ต้นทาง) ต้องระบุที่มา",
           "กรมแผนที่ทหาร (Royal Thai Survey Department) ผ่าน OCHA / Humanitarian Data Exchange (cod-ab-tha) สัญญาอนุญาต CC BY 3.0 IGO "
           "สำเนาแบบย่อจาก github.com/prasertcbs/thailand_gis"),
    Credit("dopa-population-ahtambon", "ประชากรตามทะเบียนราษฎร", "Registered population",
           "Department of Provincial Administration (DOPA) registration statistics, compiled in github.com/Ahoerstemeier/tambon",
           "No licence stated; official DOPA statistics.", "ไม่ระบุสัญญาอนุญาต เป็นสถิติทางการของกรมการปกครอง",
           "สถิติทะเบียนราษฎรของกรมการปกครอง รวบรวมไว้ที่ github.com/Ahoerstemeier/tambon"),
    Credit("econvis", "ดัชนีความก้าวหน้าของคน (HAI)", "Human Achievement Index",
           "Human Achievement Index, NESDC; compiled in github.com/phat-ap/econvis (CC0)",
           "Compilation CC0 1.0; the index values are NESDC's.", "การรวบรวมเป็น CC0 1.0 ค่าดัชนีเป็นของ สศช.",
           "ดัชนีความก้าวหน้าของคน สศช. รวบรวมไว้ที่ github.com/phat-ap/econvis (CC0)"),
)


def credit_lines(lang: str, folders=None) -> tuple[tuple[str, str], ...]:
    """(source title, credit — licence) pairs, for the header of an exported table."""
    return tuple((c.title(lang), f"{c.credit_text(lang)} — {c.licence_text(lang)}") for c in CREDITS
                 if folders is None or c.folder in folders)
