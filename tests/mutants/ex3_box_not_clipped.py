"""Rounds the box but never clips it: a box reaching past 1000 leaves the image."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_rounds_and_clips[outside-the-image]"]
REPLACE = [("""        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),""", """        round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy),""")]
