"""The outputs of `dlgrade grade` beside results.json: gradebook.csv, junit.xml and the ledger.

The ledger (`--out`/.dlgrade-ledger.json) records, for every submission the grader finished,
the SHA-256 of the results.json it wrote and the row's flags. Only the grader writes it, and
no sandbox can see --out; `--resume` trusts a results.json only when its digest matches, so a
file changed afterwards (by anything) is graded again instead of believed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from dlgrade.core.jsonio import read_json_object, write_text_atomic
from dlgrade.grading.policy import clean_text, finite, json_safe, xml_text

LEDGER = ".dlgrade-ledger.json"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A text cell a spreadsheet shows as text: escaped (policy.clean_text), one starting like a formula with a
    leading apostrophe."""
    text = clean_text(value, 100_000)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_gradebook(rows: list[dict], items: list[str], path: Path) -> None:
    """One row per submission: its points per item, total, max, status, sandboxed, review flags, notes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", *items, "total", "max_total", "status", "sandboxed", "review", "notes"])
    for row in sorted(rows, key=lambda r: r["submission"]):
        writer.writerow([safe_cell(row["submission"]), *[row["items"].get(i, 0) for i in items], row["total"],
                         row["max_total"], row["status"], row["sandboxed"], safe_cell(row["review"]),
                         safe_cell(row["notes"])])
    write_text_atomic(path, buffer.getvalue())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_ledger(out: Path) -> dict:
    return read_json_object(out / LEDGER)


def save_ledger(out: Path, ledger: dict) -> None:
    write_text_atomic(out / LEDGER, json.dumps(json_safe(ledger), ensure_ascii=False, indent=1, allow_nan=False))


def trusted(out: Path, ledger: dict, name: str, results: Path) -> dict | None:
    """The ledger entry of a finished submission whose results.json is the one the grader wrote, else None."""
    entry = ledger.get(name)
    try:
        return entry if entry and results.is_file() and digest(results) == entry.get("sha256") else None
    except OSError:
        return None


def write_junit(results: list, path: Path) -> None:
    """JUnit XML of the results the grader accepted (not the run's own file, which learner code could write);
    every text an XML 1.0 document can hold, every time a finite number."""
    suite = ET.Element("testsuite", name="dlgrade", tests=str(len(results)),
                       failures=str(sum(r.status not in ("passed", "skipped") for r in results)),
                       skipped=str(sum(r.status == "skipped" for r in results)))
    for r in results:
        module, _, name = r.nodeid.partition("::")
        output = xml_text(r.output)
        case = ET.SubElement(suite, "testcase", classname=xml_text(module.removesuffix(".py").replace("/", ".")),
                             name=xml_text(name), time=f"{finite(r.duration):.3f}")
        properties = ET.SubElement(case, "properties")
        for key, value in (("item", r.item or ""), ("dlgrade_status", r.status), ("visibility", r.visibility)):
            ET.SubElement(properties, "property", name=key, value=xml_text(value))
        if r.status == "skipped":
            ET.SubElement(case, "skipped", message=output)
        elif r.status != "passed":
            ET.SubElement(case, "failure", message=output.splitlines()[0] if output else r.status).text = output
    write_text_atomic(path, ET.tostring(suite, encoding="unicode"))
