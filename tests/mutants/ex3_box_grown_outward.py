"""Floors the minima and ceils the maxima ("the box must cover the object"): not the rounding the docstring asks for."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_rounds_and_clips[floats-grown-outward]",
           "checks/test_ex3.py::test_parse_box_converts_to_pixels"]
SAYS = ["round"]
REPLACE = [("""        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),""", """        max(0, min(width, math.floor(x0 * sx))),
        max(0, min(height, math.floor(y0 * sy))),
        max(0, min(width, math.ceil(x1 * sx))),
        max(0, min(height, math.ceil(y1 * sy))),"""), ("import json\n", "import json\nimport math\n")]
