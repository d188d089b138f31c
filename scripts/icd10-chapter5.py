#!/usr/bin/env python3
"""Writes src/diagnoses/icd10cm-chapter5.tsv: every billable (leaf) ICD-10-CM code of chapter 5
(F01-F99, mental, behavioral and neurodevelopmental disorders) with its description.

The codes are CDC/NCHS's ICD-10-CM (public domain), April 1 2026 release of FY2026, as the PyPI
package simple-icd-10-cm 1.5.0 carries it. The registry ships the committed table and never
fetches codes at run time; run this again (with the package's next release) for FY2027.

    python3 -m venv /tmp/icd && /tmp/icd/bin/pip install simple-icd-10-cm==1.5.0
    /tmp/icd/bin/python scripts/icd10-chapter5.py
"""
import pathlib
import simple_icd_10_cm as cm

RELEASE = "ICD-10-CM FY2026 (April 1, 2026 release), CDC/NCHS, public domain; via simple-icd-10-cm 1.5.0"
out = pathlib.Path(__file__).resolve().parent.parent / "src" / "diagnoses" / "icd10cm-chapter5.tsv"

rows = {}  # a code that is both a block and a category (F99) comes twice
for code in cm.get_all_codes(with_dots=True):
    if not cm.is_category_or_subcategory(code) or not code.startswith("F") or not cm.is_leaf(code):
        continue
    description = " ".join(cm.get_description(code).split())
    assert "\t" not in description
    rows[code] = description

with out.open("w", encoding="utf-8") as f:
    f.write(f"# {RELEASE}\n")
    f.write("# billable codes of chapter 5 (F01-F99): code<TAB>description\n")
    for code, description in rows.items():
        f.write(f"{code}\t{description}\n")
print(f"{len(rows)} codes -> {out}")
