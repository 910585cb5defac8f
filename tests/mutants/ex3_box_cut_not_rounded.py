"""Cuts the scaled coordinates with int() instead of rounding them."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_rounds_and_clips[floats]"]
SAYS = ["round (not int(), which cuts)"]
REPLACE = [("""        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),""", """        max(0, min(width, int(x0 * sx))),
        max(0, min(height, int(y0 * sy))),
        max(0, min(width, int(x1 * sx))),
        max(0, min(height, int(y1 * sy))),""")]
