"""The one problem type of an upload, its catalogue of bilingual messages, and the log a check fills.

Every problem has a stable ``code`` (tests and the page key on it), a severity (``error``: the row is
rejected; ``warning``: the row is kept, possibly changed, and the user is told how), the spreadsheet row
(the header row counts, as Excel shows it), the column as the file names it, and message + advice in
Thai and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from povmap.core.errors import PovmapError

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Template:
    severity: str
    en: str
    th: str
    advice_en: str
    advice_th: str


# code -> message and advice; ``{...}`` fields are filled per problem.
CATALOGUE: dict[str, Template] = {
    # The file as a whole (raised by parse: nothing can be checked).
    "file_empty": Template(
        ERROR, "The file is empty.", "ไฟล์ว่างเปล่า",
        "Choose the file again. If Excel shows data in it, save it again as 'CSV UTF-8' or .xlsx.",
        "เลือกไฟล์อีกครั้ง หากเปิดใน Excel แล้วมีข้อมูล ให้บันทึกใหม่เป็น 'CSV UTF-8' หรือ .xlsx"),
    "file_too_large": Template(
        ERROR, "The file is {size} MB; the limit is {limit} MB.", "ไฟล์มีขนาด {size} MB เกินขีดจำกัด {limit} MB",
        "Split it into smaller files (for example one per province) or delete columns that are not used.",
        "แบ่งเป็นไฟล์ย่อย (เช่น ไฟล์ละจังหวัด) หรือลบคอลัมน์ที่ไม่ได้ใช้"),
    "too_many_rows": Template(
        ERROR, "The file has more than {limit} rows.", "ไฟล์มีมากกว่า {limit} แถว",
        "Split it into smaller files (for example one per province).", "แบ่งเป็นไฟล์ย่อย (เช่น ไฟล์ละจังหวัด)"),
    "too_many_columns": Template(
        ERROR, "The file has more than {limit} columns.", "ไฟล์มีมากกว่า {limit} คอลัมน์",
        "Keep only the columns povmap reads (see the list of accepted headers).",
        "เก็บไว้เฉพาะคอลัมน์ที่โปรแกรมใช้ (ดูรายชื่อหัวคอลัมน์ที่ใช้ได้)"),
    "too_many_cells": Template(
        ERROR, "The file has more than {limit} cells.", "ไฟล์มีมากกว่า {limit} เซลล์",
        "Split it into smaller files or delete columns that are not used.",
        "แบ่งเป็นไฟล์ย่อย หรือลบคอลัมน์ที่ไม่ได้ใช้"),
    "cell_too_long": Template(
        ERROR, "Row {at_row}, column {letter} holds {length} characters; a cell may hold at most {limit}.",
        "แถว {at_row} คอลัมน์ {letter} มี {length} ตัวอักษร แต่หนึ่งเซลล์มีได้ไม่เกิน {limit} ตัวอักษร",
        "Check that the file's quotes are closed: an unclosed quote joins many lines into one cell.",
        "ตรวจสอบว่าเครื่องหมายคำพูดในไฟล์ปิดครบ เครื่องหมายที่ไม่ปิดจะรวมหลายบรรทัดเป็นเซลล์เดียว"),
    "xlsx_inflates": Template(
        ERROR, "The Excel file unpacks to {size} MB; the limit is {limit} MB, and a part may unpack to at most "
        "{ratio} times its packed size.",
        "ไฟล์ Excel เมื่อแตกออกมีขนาด {size} MB เกินขีดจำกัด {limit} MB หรือขยายตัวเกิน {ratio} เท่าของขนาดที่บีบอัด",
        "Open it in Excel, delete what is not needed, and save it again; or save the sheet as 'CSV UTF-8'.",
        "เปิดใน Excel ลบส่วนที่ไม่ใช้ แล้วบันทึกใหม่ หรือบันทึกชีตเป็น 'CSV UTF-8'"),
    "encoding": Template(
        ERROR, "The file is not text in UTF-8 or TIS-620 (cp874), so its letters cannot be read.",
        "ไฟล์ไม่ใช่ข้อความแบบ UTF-8 หรือ TIS-620 (cp874) จึงอ่านตัวอักษรไม่ได้",
        "In Excel choose Save As → 'CSV UTF-8 (Comma delimited)', or upload the .xlsx file itself.",
        "ใน Excel เลือก บันทึกเป็น → 'CSV UTF-8 (Comma delimited)' หรืออัปโหลดไฟล์ .xlsx โดยตรง"),
    "not_a_table": Template(
        ERROR, "This is not a CSV or Excel (.xlsx) table ({detail}).", "ไฟล์นี้ไม่ใช่ตาราง CSV หรือ Excel (.xlsx) ({detail})",
        "Upload a .csv or .xlsx file with one header row and one row per record.",
        "อัปโหลดไฟล์ .csv หรือ .xlsx ที่มีหัวตาราง 1 แถว และข้อมูล 1 แถวต่อ 1 รายการ"),
    "xls_format": Template(
        ERROR, "The old Excel format (.xls) cannot be read.", "อ่านไฟล์ Excel รูปแบบเก่า (.xls) ไม่ได้",
        "Open it in Excel and save it as .xlsx or 'CSV UTF-8'.", "เปิดใน Excel แล้วบันทึกเป็น .xlsx หรือ 'CSV UTF-8'"),
    "xlsx_unreadable": Template(
        ERROR, "The Excel file cannot be opened ({detail}).", "เปิดไฟล์ Excel ไม่ได้ ({detail})",
        "Open it in Excel, check it, and save it again as .xlsx.", "เปิดใน Excel ตรวจสอบ แล้วบันทึกใหม่เป็น .xlsx"),
    "sheet_not_found": Template(
        ERROR, "There is no sheet '{sheet}'. The sheets are: {sheets}.", "ไม่มีชีต '{sheet}' ชีตที่มีคือ: {sheets}",
        "Choose one of these sheets.", "เลือกชีตใดชีตหนึ่งจากรายการนี้"),
    "no_data": Template(
        ERROR, "The file has a header row (row {row}) but no data below it.", "ไฟล์มีหัวตาราง (แถว {row}) แต่ไม่มีข้อมูลใต้หัวตาราง",
        "Check that you chose the right file and sheet.", "ตรวจสอบว่าเลือกไฟล์และชีตถูกต้อง"),
    # Columns (row = the header row).
    "missing_column": Template(
        ERROR, "The required column '{key}' ({label_en}) is missing.{did_you_mean_en}",
        "ไม่มีคอลัมน์ที่ต้องใช้ '{key}' ({label_th}){did_you_mean_th}",
        "{fix_en}", "{fix_th}"),
    "unknown_column": Template(
        WARNING, "The column '{header}' is not used and will not be imported.{did_you_mean_en}",
        "คอลัมน์ '{header}' ไม่ได้ใช้ และจะไม่ถูกนำเข้า{did_you_mean_th}",
        "{fix_en}", "{fix_th}"),
    "unknown_columns": Template(
        WARNING, "{count} columns are not used and will not be imported: {names}.",
        "มี {count} คอลัมน์ที่ไม่ได้ใช้ และจะไม่ถูกนำเข้า: {names}",
        "Nothing to do if the columns are not needed.", "ไม่ต้องทำอะไรหากไม่ต้องใช้คอลัมน์เหล่านี้"),
    "duplicate_column": Template(
        WARNING, "The column '{header}' is a second '{key}' column; only column {first} is used.",
        "คอลัมน์ '{header}' เป็นคอลัมน์ '{key}' ซ้ำ ระบบใช้เฉพาะคอลัมน์ {first}",
        "Delete or rename one of the two columns.", "ลบหรือเปลี่ยนชื่อคอลัมน์ใดคอลัมน์หนึ่ง"),
    "no_year": Template(
        ERROR, "The year of the figures is not given.", "ไม่ได้ระบุปีของข้อมูล",
        "Choose the year on the page, or add a column 'year' (ปี).", "เลือกปีในหน้านี้ หรือเพิ่มคอลัมน์ 'ปี' (year)"),
    "several_years": Template(
        ERROR, "The file holds several years ({years}); one dataset holds one year.",
        "ไฟล์มีข้อมูลหลายปี ({years}) ชุดข้อมูลหนึ่งชุดต้องเป็นปีเดียว",
        "Split the file by year, or choose the year on the page.", "แยกไฟล์ตามปี หรือเลือกปีในหน้านี้"),
    # Cells.
    "missing_value": Template(
        ERROR, "'{label_en}' is blank.", "ไม่ได้กรอก '{label_th}'",
        "{fix_en}", "{fix_th}"),
    "not_a_number": Template(
        ERROR, "'{value}' is not a number.", "'{value}' ไม่ใช่ตัวเลข",
        "Write digits only, for example 1234 or 1,234.", "กรอกเป็นตัวเลขเท่านั้น เช่น 1234 หรือ 1,234"),
    "not_whole": Template(
        ERROR, "'{value}' is not a whole number.", "'{value}' ไม่ใช่จำนวนเต็ม",
        "Counts are whole numbers: remove the decimals.", "จำนวนต้องเป็นจำนวนเต็ม ให้ลบทศนิยมออก"),
    "too_large": Template(
        ERROR, "'{value}' is too large to be a count.", "'{value}' มากเกินกว่าจะเป็นจำนวนนับ",
        "Check the number.", "ตรวจสอบตัวเลข"),
    "negative": Template(
        ERROR, "{value} is negative; a count cannot be below 0.", "{value} ติดลบ จำนวนนับต้องไม่ต่ำกว่า 0",
        "Correct the count (0 if there were none).", "แก้ไขจำนวน (กรอก 0 ถ้าไม่มี)"),
    "score_out_of_range": Template(
        ERROR, "The score {value} is outside 1–4.", "คะแนน {value} อยู่นอกช่วง 1–4",
        "Capital scores go from 1 (lowest) to 4 (highest).", "คะแนนทุนต้องอยู่ระหว่าง 1 (ต่ำสุด) ถึง 4 (สูงสุด)"),
    "members_out_of_range": Template(
        ERROR, "A household has at least 1 member (found {value}).", "ครัวเรือนต้องมีสมาชิกอย่างน้อย 1 คน (พบ {value})",
        "Write the number of people living in the household.", "กรอกจำนวนคนที่อาศัยอยู่ในครัวเรือน"),
    "bad_flag": Template(
        ERROR, "'{value}' is not 1 (yes) or 0 (no).", "'{value}' ไม่ใช่ 1 (ใช่) หรือ 0 (ไม่ใช่)",
        "Write 1 for yes and 0 for no.", "กรอก 1 หมายถึง ใช่ และ 0 หมายถึง ไม่ใช่"),
    "year_out_of_range": Template(
        ERROR, "'{value}' is not a plausible year.", "'{value}' ไม่ใช่ปีที่เป็นไปได้",
        "Write the year as, for example, 2023 (CE) or 2566 (BE).", "กรอกปี เช่น 2566 (พ.ศ.) หรือ 2023 (ค.ศ.)"),
    "bad_combo": Template(
        ERROR, "'{value}' is not a combination of dimensions.", "'{value}' ไม่ใช่ชุดมิติ",
        "Write 5 digits of 0/1 in the order health, living, education, income, access, e.g. 11111 for all five.",
        "กรอกเลข 0/1 จำนวน 5 หลัก เรียงเป็น สุขภาพ ความเป็นอยู่ การศึกษา รายได้ การเข้าถึงบริการรัฐ เช่น 11111 คือครบ 5 มิติ"),
    # Values read after a change the user should know about (one warning per column).
    "numbers_as_text": Template(
        WARNING, "{n} value(s) were written as text (thousands separators or Thai digits) and were read as numbers, "
                 "e.g. row {example_row}: '{value}' → {number}.",
        "มี {n} ค่าที่เขียนเป็นข้อความ (มีจุลภาคคั่นหลักพันหรือเป็นเลขไทย) ระบบอ่านเป็นตัวเลขแล้ว "
        "เช่น แถว {example_row}: '{value}' → {number}",
        "Nothing to do; check that the example was read right.", "ไม่ต้องทำอะไร ตรวจสอบว่าตัวอย่างอ่านได้ถูกต้อง"),
    "buddhist_year": Template(
        WARNING, "{n} year(s) were in the Buddhist Era and were converted, e.g. row {example_row}: {value} → {number}.",
        "มี {n} ค่าที่เป็นปี พ.ศ. ระบบแปลงเป็น ค.ศ. แล้ว เช่น แถว {example_row}: {value} → {number}",
        "Nothing to do.", "ไม่ต้องทำอะไร"),
    "blank_flag": Template(
        WARNING, "{n} blank cell(s) were read as 0 (no), e.g. row {example_row}.", "มี {n} ช่องว่างที่ระบบอ่านเป็น 0 (ไม่ใช่) เช่น แถว {example_row}",
        "If any of them means 'yes', write 1.", "หากช่องใดหมายถึง 'ใช่' ให้กรอก 1"),
    "no_dimension_flags": Template(
        WARNING, "The file has no dimension columns (deprived_health … deprived_access): every household counts in "
                 "every dimension, so the dimension filter does not narrow this dataset.",
        "ไฟล์ไม่มีคอลัมน์มิติ (deprived_health … deprived_access) ทุกครัวเรือนจะนับในทุกมิติ "
        "ตัวกรองมิติจึงไม่มีผลกับชุดข้อมูลนี้",
        "Add the five 0/1 dimension columns if you have them.", "หากมีข้อมูล ให้เพิ่มคอลัมน์มิติ 0/1 ทั้ง 5 คอลัมน์"),
    "names_resolved": Template(
        WARNING, "{n} row(s) gave names instead of a code and were placed by name, e.g. row {example_row}: {value} → {number}.",
        "มี {n} แถวที่ระบุชื่อแทนรหัส ระบบระบุพื้นที่จากชื่อแล้ว เช่น แถว {example_row}: {value} → {number}",
        "Nothing to do; writing the code avoids ambiguity in future files.",
        "ไม่ต้องทำอะไร ในไฟล์ครั้งต่อไปการกรอกรหัสจะช่วยลดความกำกวม"),
    "extra_cells": Template(
        WARNING, "This row has {n} more cell(s) than the header; they are ignored.",
        "แถวนี้มีข้อมูลเกินหัวตาราง {n} ช่อง ระบบไม่ใช้ช่องเหล่านั้น",
        "Give the extra cells a header, or delete them.", "ตั้งชื่อหัวคอลัมน์ให้ช่องที่เกิน หรือลบออก"),
    # Areas.
    "bad_code": Template(
        ERROR, "'{value}' is not an area code (2, 4 or 6 digits).", "'{value}' ไม่ใช่รหัสพื้นที่ (ตัวเลข 2, 4 หรือ 6 หลัก)",
        "Write the DOPA code, e.g. 84 (province), 8405 (district) or 840503 (subdistrict).",
        "กรอกรหัสกรมการปกครอง เช่น 84 (จังหวัด) 8405 (อำเภอ) หรือ 840503 (ตำบล)"),
    "unknown_code": Template(
        ERROR, "There is no {level_en} with the code {value}.{candidates_en}",
        "ไม่มี{level_th}ที่มีรหัส {value}{candidates_th}",
        "Check the code and write a current DOPA code.", "ตรวจสอบรหัส แล้วกรอกรหัสกรมการปกครองที่ใช้อยู่ในปัจจุบัน"),
    "wrong_level": Template(
        ERROR, "{value} is a {level_en} code; this upload is for {expected_en} figures.",
        "{value} เป็นรหัส{level_th} แต่การนำเข้านี้เป็นข้อมูลระดับ{expected_th}",
        "Remove the row, or choose 'any level' for the upload.", "ลบแถวนี้ หรือเลือกนำเข้า 'ทุกระดับ'"),
    "abolished_code": Template(
        WARNING, "{value} ({name}) was abolished{on_en}; its figures were moved to its successor {successor}.",
        "{value} ({name}) ถูกยกเลิกแล้ว{on_th} ระบบย้ายข้อมูลไปยังพื้นที่ใหม่ {successor}",
        "Nothing to do; use the new code in future files.", "ไม่ต้องทำอะไร ในไฟล์ครั้งต่อไปให้ใช้รหัสใหม่"),
    "abolished_ambiguous": Template(
        ERROR, "{value} ({name}) was abolished and split into {candidates}; the row cannot be placed.",
        "{value} ({name}) ถูกยกเลิกและแยกเป็น {candidates} ระบบจึงระบุพื้นที่ของแถวนี้ไม่ได้",
        "Write which of these codes the row belongs to.", "กรอกรหัสที่ถูกต้องจากรายการนี้"),
    "abolished_no_successor": Template(
        ERROR, "{value} ({name}) was abolished and has no successor.",
        "{value} ({name}) ถูกยกเลิกแล้วและไม่มีพื้นที่ใหม่แทน",
        "Write the current code of the area the row belongs to.", "กรอกรหัสปัจจุบันของพื้นที่ที่แถวนี้สังกัด"),
    "not_dopa_tambon": Template(
        WARNING, "{value} is not a DOPA subdistrict code (TPMAP uses tambon numbers 50–99 for some units): its figures "
                 "count towards district {district} but cannot be drawn on the subdistrict map.",
        "{value} ไม่ใช่รหัสตำบลของกรมการปกครอง (TPMAP ใช้เลขตำบล 50–99 กับบางหน่วย) ตัวเลขจะนับรวมในอำเภอ {district} "
        "แต่แสดงบนแผนที่ระดับตำบลไม่ได้",
        "Nothing to do.", "ไม่ต้องทำอะไร"),
    "name_not_found": Template(
        ERROR, "No {level_en} called '{value}' was found{where_en}.{candidates_en}",
        "ไม่พบ{level_th}ชื่อ '{value}'{where_th}{candidates_th}",
        "Check the spelling, or write the DOPA code instead of the name.", "ตรวจสอบการสะกด หรือกรอกรหัสกรมการปกครองแทนชื่อ"),
    "name_ambiguous": Template(
        ERROR, "'{value}' fits {n} {level_en}s: {candidates}.", "'{value}' ตรงกับ{level_th} {n} แห่ง: {candidates}",
        "Add the district and province names, or write the DOPA code.", "เพิ่มชื่ออำเภอและจังหวัด หรือกรอกรหัสกรมการปกครอง"),
    "name_chosen": Template(
        WARNING, "'{value}' was placed in {number}, as you chose.", "'{value}' ถูกจัดไว้ที่ {number} ตามที่คุณเลือก",
        "Nothing to do; to avoid the question next time, write the DOPA code in the file.",
        "ไม่ต้องทำอะไร หากไม่ต้องการให้ถามอีก ให้กรอกรหัสกรมการปกครองในไฟล์"),
    # Rows against each other.
    "duplicate_household": Template(
        ERROR, "The household id '{value}' appears again (first in row {first}).",
        "รหัสครัวเรือน '{value}' ซ้ำ (พบครั้งแรกที่แถว {first})",
        "Keep one row per household, each with its own id.", "ให้มี 1 แถวต่อ 1 ครัวเรือน และแต่ละครัวเรือนมีรหัสไม่ซ้ำกัน"),
    "duplicate_area": Template(
        ERROR, "The area {value} appears again (first in row {first}).", "พื้นที่ {value} ซ้ำ (พบครั้งแรกที่แถว {first})",
        "Keep one row per area (and per combination of dimensions).", "ให้มี 1 แถวต่อ 1 พื้นที่ (และต่อ 1 ชุดมิติ)"),
    "exceeds_total": Template(
        ERROR, "'{header}' is {value}, more than the row's target poor ({total}).",
        "'{header}' มีค่า {value} มากกว่าจำนวนคนจนเป้าหมายของแถว ({total})",
        "A dimension's count is part of the total: check both numbers.", "จำนวนรายมิติเป็นส่วนหนึ่งของยอดรวม ให้ตรวจสอบทั้งสองค่า"),
    "rollup_mismatch": Template(
        ERROR, "The {child_en} rows of this {level_en} add up to {sum} for '{header}', but this row says {value}.{more_en}",
        "ผลรวมของแถวระดับ{child_th}ในพื้นที่นี้ของ '{header}' คือ {sum} แต่แถวนี้ระบุ {value}{more_th}",
        "Correct this row or its {child_en} rows. With 'only valid rows' this row is left out and its figures "
        "are taken from its {child_en} rows.",
        "แก้ไขแถวนี้หรือแถวระดับ{child_th} หากเลือก 'นำเข้าเฉพาะแถวที่ถูกต้อง' ระบบจะไม่ใช้แถวนี้ "
        "และใช้ผลรวมจากแถวระดับ{child_th}แทน"),
    "total_mismatch": Template(
        ERROR, "The total row says {value} for '{header}', but the {level_en} rows add up to {sum}.{more_en}",
        "แถวยอดรวมระบุ '{header}' เป็น {value} แต่ผลรวมของแถวระดับ{level_th}คือ {sum}{more_th}",
        "Correct the total row or the rows above it. The total row itself is never imported.",
        "แก้ไขแถวยอดรวมหรือแถวข้อมูล แถวยอดรวมจะไม่ถูกนำเข้าอยู่แล้ว"),
}


class _Blank(dict):
    """format_map helper: a field a template names but a problem does not give prints as ''."""

    def __missing__(self, key):
        return ""


_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00a0\u00ad\u115f\u1160\u180e"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def visible(value: str) -> str:
    """A value as it can be seen: invisible characters (zero-width space, byte-order mark, no-break space,
    direction marks, controls) become their code point, e.g. ``84⟨U+200B⟩0503``."""
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", value)


def render(code: str, params: dict) -> tuple[str, str, str, str]:
    """(message_en, message_th, advice_en, advice_th) of one problem (a quoted value with its invisible
    characters shown)."""
    t = CATALOGUE[code]
    if isinstance(params.get("value"), str):
        params = {**params, "value": visible(params["value"])}
    p = _Blank(params)
    return t.en.format_map(p), t.th.format_map(p), t.advice_en.format_map(p), t.advice_th.format_map(p)


def column_letter(index: int | None) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    if index is None or index < 0:
        return ""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class UploadProblem(PovmapError):
    """One problem of an uploaded file. Raised by :func:`parse` when the file cannot be read as a table at
    all; otherwise listed in a :class:`~povmap.data.uploads.validate.Report`.

    ``row`` is the row number a spreadsheet shows (the header row counts; None: the whole file), ``column``
    the header as written in the file (``column_letter`` its letter), ``code`` a key of :data:`CATALOGUE`.
    """

    def __init__(self, code: str, en: str, th: str, *, severity: str = ERROR, row: int | None = None,
                 column: str | None = None, column_letter: str = "", advice_en: str = "", advice_th: str = "",
                 value: str = "", candidates: str = "", file: str | None = None):
        self.code, self.severity, self.row, self.column = code, severity, row, column
        self.column_letter, self.advice_en, self.advice_th = column_letter, advice_en, advice_th
        self.value, self.candidates, self.file = value, candidates, file
        super().__init__(en, th)

    @classmethod
    def make(cls, code: str, *, row=None, column=None, col_index=None, file=None, **params) -> "UploadProblem":
        en, th, aen, ath = render(code, params)
        return cls(code, en, th, severity=CATALOGUE[code].severity, row=row, column=column,
                   column_letter=column_letter(col_index), advice_en=aen, advice_th=ath,
                   value=str(params.get("value", "")), candidates=str(params.get("candidates", "")), file=file)

    def advice(self, lang: str) -> str:
        return self.advice_th if lang == "th" else self.advice_en

    def describe(self, lang: str) -> str:
        """One line for a person: where, what, what to do."""
        where = []
        if self.row is not None:
            where.append(f"แถว {self.row}" if lang == "th" else f"Row {self.row}")
        if self.column:
            col = f"{self.column_letter} '{self.column}'" if self.column_letter else f"'{self.column}'"
            where.append(f"คอลัมน์ {col}" if lang == "th" else f"column {col}")
        head = (" ".join(where) + ": ") if lang == "th" and where else (", ".join(where) + ": " if where else "")
        todo = self.advice(lang)
        sep = " — วิธีแก้: " if lang == "th" else " What to do: "
        return f"{head}{self.message(lang)}{sep + todo if todo else ''}"


PROBLEM_COLUMNS = ["row", "column", "column_letter", "code", "severity", "value", "candidates",
                   "message_en", "message_th", "advice_en", "advice_th"]


class ProblemLog:
    """Collects problems while a file is checked; :meth:`frame` gives them as one table sorted by row."""

    def __init__(self, rownums: np.ndarray, header: list[str]):
        self.rownums = rownums  # spreadsheet row number of each data row
        self.header = header
        self._chunks: list[pd.DataFrame] = []
        self.rejected = np.zeros(len(rownums), dtype=bool)
        self.fatal = False  # a problem no row can escape (a required column is missing)

    def column(self, col_index: int | None) -> str:
        if col_index is None:
            return ""
        name = self.header[col_index] if col_index < len(self.header) else ""
        return name or f"({column_letter(col_index)})"

    def add(self, code: str, *, positions=None, row: int | None = None, col_index: int | None = None,
            column: str | None = None, fatal: bool = False, **params) -> None:
        """One problem per data row at ``positions``, or one at spreadsheet ``row`` (file/column level).

        Each param is a scalar or an array aligned with ``positions`` (formatted per row).
        """
        severity = CATALOGUE[code].severity
        col = column if column is not None else self.column(col_index)
        if positions is None:
            en, th, aen, ath = render(code, {"header": col, **params})
            rows = [row]
            values = [str(params.get("value", ""))]
            cands = [str(params.get("candidates", ""))]
            msgs = [(en, th, aen, ath)]
            if fatal:
                self.fatal = True
                self.rejected[:] = True
        else:
            positions = np.asarray(positions, dtype="int64")
            if not len(positions):
                return
            if severity == ERROR:
                self.rejected[positions] = True
            per_row = {k: np.asarray(v, dtype=object) for k, v in params.items()
                       if isinstance(v, (np.ndarray, pd.Series, list))}
            fixed = {"header": col, **{k: v for k, v in params.items() if k not in per_row}}
            msgs = []
            for i in range(len(positions)):
                p = dict(fixed)
                for k, v in per_row.items():
                    p[k] = v[i]
                msgs.append(render(code, p))
            rows = self.rownums[positions].tolist()
            values = [str(v) for v in per_row["value"]] if "value" in per_row else [str(params.get("value", ""))] * len(rows)
            cands = ([str(v) for v in per_row["candidates"]] if "candidates" in per_row
                     else [str(params.get("candidates", ""))] * len(rows))
        en, th, aen, ath = (list(x) for x in zip(*msgs))
        n = len(rows)
        self._chunks.append({
            "row": rows, "column": [col] * n, "column_letter": [column_letter(col_index)] * n, "code": [code] * n,
            "severity": [severity] * n, "value": values, "candidates": cands, "message_en": en, "message_th": th,
            "advice_en": aen, "advice_th": ath, "_col": [-1 if col_index is None else col_index] * n,
        })

    def frame(self) -> pd.DataFrame:
        if not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "str") for c in PROBLEM_COLUMNS})
        # Plain lists per call, one DataFrame at the end: a file can have thousands of problem groups.
        df = pd.DataFrame({k: [x for ch in self._chunks for x in ch[k]] for k in self._chunks[0]})
        df["row"] = pd.array(df["row"].tolist(), dtype="Int64")
        df = df.sort_values(["row", "_col"], kind="stable", na_position="first")
        return df[PROBLEM_COLUMNS].reset_index(drop=True)
