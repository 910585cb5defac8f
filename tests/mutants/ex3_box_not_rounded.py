"""Scales the box but returns float pixels (never rounded)."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_converts_to_pixels", "checks/test_ex3.py::test_parse_box_rounds_and_clips"]
SAYS = ["whole pixels"]
REPLACE = [("""        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),""", """        max(0, min(width, x0 * sx)),
        max(0, min(height, y0 * sy)),
        max(0, min(width, x1 * sx)),
        max(0, min(height, y1 * sy)),""")]
