"""Scales x by the height and y by the width."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_converts_to_pixels", "checks/test_ex3.py::test_locate_object_box_in_pixels"]
REPLACE = [("    sx, sy = width / BOX_SCALE, height / BOX_SCALE\n", "    sx, sy = height / BOX_SCALE, width / BOX_SCALE\n")]
