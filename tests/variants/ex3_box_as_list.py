"""Correct, differently: the box comes back as a list of ints, floored coordinates via int(v + 0.5)."""
TARGET = "ex3_openai.py"
PASSES = ["checks/test_ex3.py::test_parse_box_converts_to_pixels", "checks/test_ex3.py::test_parse_box_rounds_and_clips",
          "checks/test_ex3.py::test_locate_object_box_in_pixels"]
REPLACE = [("""    return (
        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),
    )""", """    limits = (width, height, width, height)
    return [min(limit, max(0, int(v * scale + 0.5))) for v, scale, limit in zip(box, (sx, sy, sx, sy), limits)]""")]
