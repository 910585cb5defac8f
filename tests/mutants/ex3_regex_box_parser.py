"""Pulls the first four numbers out of the answer with a regex: prose and "found": false pass as boxes."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_rejects_bad_answers"]


def parse_box(answer, width, height):
    import re
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", answer or "")]
    if len(numbers) < 4:
        raise GroundingError(f"no box in {answer!r}")
    x0, y0, x1, y1 = numbers[:4]
    if x1 <= x0 or y1 <= y0:
        raise GroundingError("empty box")
    sx, sy = width / BOX_SCALE, height / BOX_SCALE
    return (max(0, min(width, round(x0 * sx))), max(0, min(height, round(y0 * sy))),
            max(0, min(width, round(x1 * sx))), max(0, min(height, round(y1 * sy))))
