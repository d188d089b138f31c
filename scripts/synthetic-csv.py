#!/usr/bin/env python3
"""Writes a plain registry copy's patients, assessments and contacts as import CSV files (the
long shapes, at most 200,000 rows a file) with their mappings, for the import benchmark.
Usage: synthetic-csv.py PLAIN.sqlite OUT_DIR"""
import csv, json, sqlite3, sys

src, out = sys.argv[1], sys.argv[2]
db = sqlite3.connect(src)
team = dict(db.execute("SELECT id, name FROM team_members"))

def write(name, header, rows, per_file=150_000):
    names = []
    for n in range(0, max(len(rows), 1), per_file):
        path = f"{out}/{name}{n // per_file + 1}.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows[n:n + per_file])
        names.append(path)
    return names

patients = [
    [mrn, name, dob, payer, team.get(pcp, ""), team.get(cm, ""), team.get(psy, ""), start or "", consent or "", (targets or "").replace(",", " and ")]
    for mrn, name, dob, payer, pcp, cm, psy, start, consent, targets in db.execute(
        """SELECT p.mrn, p.name, p.dob,
                  (SELECT c.payer FROM coverages c WHERE c.patient_id = p.id AND c.secondary = 0 AND c.voided_at IS NULL
                   ORDER BY ifnull(c.from_date, '') DESC LIMIT 1), p.pcp_id, p.care_manager_id, p.consultant_id, e.start_date, e.consent_date, e.targets
           FROM patients p LEFT JOIN episodes e ON e.patient_id = p.id AND e.voided_at IS NULL
             AND e.start_date = (SELECT MIN(start_date) FROM episodes x WHERE x.patient_id = p.id AND x.voided_at IS NULL)""")
]
# As many item columns as the longest form in the registry (the SCARED has 41).
ITEMS = max([9] + [len(items.split(",")) for (items,) in db.execute("SELECT items FROM assessments WHERE voided_at IS NULL AND items <> ''")])
assessments = [
    [mrn, date, instrument] + items.split(",") + [""] * (ITEMS - len(items.split(",")))
    for mrn, date, instrument, items in db.execute(
        "SELECT p.mrn, a.date, a.instrument, a.items FROM assessments a JOIN patients p ON p.id = a.patient_id WHERE a.voided_at IS NULL")
]
contacts = [
    [mrn, date, minutes, team[author], kind, mode]
    for mrn, date, minutes, author, kind, mode in db.execute(
        "SELECT p.mrn, c.date, c.minutes, c.author_id, c.kind, c.mode FROM contacts c JOIN patients p ON p.id = c.patient_id WHERE c.voided_at IS NULL")
]
files = {
    "patients": write("patients", ["MRN", "Name", "DOB", "Payer", "PCP", "CM", "Consultant", "Enrolled", "Consent", "Targets"], patients),
    "assessments": write("assessments", ["MRN", "Date", "Instrument"] + [f"Q{i}" for i in range(1, ITEMS + 1)], assessments),
    "contacts": write("contacts", ["MRN", "Date", "Minutes", "By", "Kind", "Mode"], contacts),
}
mappings = {
    "patients": {"mrn": "MRN", "name": "Name", "dob": "DOB", "payer": "Payer", "pcp": "PCP", "care_manager": "CM",
                 "consultant": "Consultant", "enrolled": "Enrolled", "consent": "Consent", "targets": "Targets"},
    "assessments": {"mrn": "MRN", "date": "Date", "instrument": "Instrument", **{f"item{i}": f"Q{i}" for i in range(1, ITEMS + 1)}},
    "contacts": {"mrn": "MRN", "date": "Date", "minutes": "Minutes", "by": "By", "kind": "Kind", "mode": "Mode"},
}
for shape, columns in mappings.items():
    with open(f"{out}/{shape}.mapping.json", "w") as f:
        json.dump({"shape": shape, "columns": columns}, f)
with open(f"{out}/files.txt", "w") as f:
    for shape in ("patients", "assessments", "contacts"):
        for path in files[shape]:
            f.write(f"{shape} {path}\n")
print(f"{len(patients)} patients, {len(assessments)} assessments, {len(contacts)} contacts")
