"""Returns the model's 0..1000 coordinates as if they were pixels (clipped to the image)."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_converts_to_pixels", "checks/test_ex3.py::test_locate_object_box_in_pixels"]
REPLACE = [("    sx, sy = width / BOX_SCALE, height / BOX_SCALE\n", "    sx, sy = 1.0, 1.0\n")]
