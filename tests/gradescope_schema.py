"""The Gradescope autograder results.json format, as a validator for the tests.

Written from Gradescope's autograder specification ("Output format",
https://gradescope-autograders.readthedocs.io/en/latest/specs/): every key is optional, but a
score must be given at the top or on every test; visibilities are hidden, after_due_date,
after_published and visible; a test's status is passed or failed; output formats are text,
html, simple_format, md and ansi; a leaderboard entry has a name, a value and an optional
order (asc/desc). Stricter than Gradescope on one point: keys the specification does not list
are errors (what else dlgrade wants to keep belongs in extra_data).
"""
from __future__ import annotations

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
NUMBER = (int, float)

TOP = {"score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": str, "test_output_format": str,
       "test_name_format": str, "visibility": str, "stdout_visibility": str, "extra_data": dict, "tests": list,
       "leaderboard": list}
TEST = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str, "number": str,
        "output": str, "output_format": str, "tags": list, "visibility": str, "extra_data": dict}
ENUMS = {"output_format": FORMATS, "test_output_format": FORMATS, "test_name_format": FORMATS,
         "name_format": FORMATS, "visibility": VISIBILITIES, "stdout_visibility": VISIBILITIES,
         "status": {"passed", "failed"}}


def _fields(where: str, data, spec: dict) -> list[str]:
    if not isinstance(data, dict):
        return [f"{where}: an object expected, got {type(data).__name__}"]
    errors = []
    for key, value in data.items():
        if key not in spec:
            errors.append(f"{where}.{key}: not a key of the format")
        elif isinstance(value, bool) or not isinstance(value, spec[key]):
            errors.append(f"{where}.{key}: {type(value).__name__} where the format wants {spec[key]}")
        elif key in ENUMS and value not in ENUMS[key]:
            errors.append(f"{where}.{key}: {value!r} is not one of {sorted(ENUMS[key])}")
    return errors


def validate(results: dict) -> list[str]:
    """Every way `results` departs from the format (empty when it is valid)."""
    errors = _fields("results", results, TOP)
    if errors and not isinstance(results, dict):
        return errors
    tests = results.get("tests", [])
    for i, test in enumerate(tests if isinstance(tests, list) else []):
        errors += _fields(f"tests[{i}]", test, TEST)
        if isinstance(test, dict) and isinstance(test.get("tags"), list) and not all(
                isinstance(tag, str) for tag in test["tags"]):
            errors.append(f"tests[{i}].tags: not all strings")
    if "score" not in results and not (tests and all(isinstance(t, dict) and "score" in t for t in tests)):
        errors.append("results: no top-level score and not every test has one")
    for i, entry in enumerate(results.get("leaderboard", []) if isinstance(results.get("leaderboard"), list) else []):
        if not isinstance(entry, dict) or set(entry) - {"name", "value", "order"} or "name" not in entry \
                or "value" not in entry or entry.get("order", "desc") not in ("asc", "desc"):
            errors.append(f"leaderboard[{i}]: needs name and value, order asc or desc, nothing else")
    return errors
