#!/usr/bin/env python3
"""Writes seeds/import/patients.xlsx: the patients sample as an Excel workbook, as a practice's
spreadsheet has it (a title row above the header, dates as Excel date serials, numbers as
numbers), plus a second sheet. Standard library only; rerun after changing the sample."""
import csv, datetime, sys, zipfile
from xml.sax.saxutils import escape

src, out = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(src, encoding="utf-8")))
DATE_COLUMNS = {"DOB", "Enrollment Date", "Consent Date"}

def serial(text):  # MM/DD/YYYY → days since 1899-12-30, Excel's date serial
    m, d, y = (int(x) for x in text.split("/"))
    return (datetime.date(y, m, d) - datetime.date(1899, 12, 30)).days

def col(i):
    return chr(ord("A") + i)

def cell(ref, text, is_date):
    if text == "":
        return ""
    if is_date:
        return f'<c r="{ref}" s="1"><v>{serial(text)}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'

def sheet(rows_xml):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + "".join(rows_xml) + "</sheetData></worksheet>")

header = rows[0]
xml_rows = [f'<row r="1">{cell("A1", "Collaborative care caseload (exported 2026-11-20)", False)}</row>',
            '<row r="2">' + "".join(cell(f"{col(i)}2", h, False) for i, h in enumerate(header)) + "</row>"]
for n, r in enumerate(rows[1:], start=3):
    xml_rows.append(f'<row r="{n}">' + "".join(cell(f"{col(i)}{n}", v, header[i] in DATE_COLUMNS) for i, v in enumerate(r)) + "</row>")

files = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Caseload" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>',
    "xl/worksheets/sheet1.xml": sheet(xml_rows),
    "xl/worksheets/sheet2.xml": sheet(['<row r="1">' + cell("A1", "Fictional demo data", False) + "</row>"]),
}
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        z.writestr(name, text)
