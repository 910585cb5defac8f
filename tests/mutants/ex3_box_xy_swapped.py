"""Scales x by the height and y by the width."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_converts_to_pixels", "checks/test_ex3.py::test_locate_object_box_in_pixels"]


def parse_box(answer, width, height):
    if not answer:
        raise GroundingError("no content")
    try:
        data = json.loads(answer)
    except json.JSONDecodeError as exc:
        raise GroundingError("not JSON") from exc
    if not isinstance(data, dict) or not data.get("found") or len(data.get("box_2d") or []) != 4:
        raise GroundingError("no box")
    x0, y0, x1, y1 = data["box_2d"]
    if x1 <= x0 or y1 <= y0:
        raise GroundingError("empty box")
    return (round(x0 * height / 1000), round(y0 * width / 1000), round(x1 * height / 1000), round(y1 * width / 1000))
