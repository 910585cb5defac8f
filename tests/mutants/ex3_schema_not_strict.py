"""Asks for the box schema with strict: False, so the model may leave it."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_box_in_pixels"]
SAYS = ["strict"]
REPLACE = [('"json_schema": {"name": "bounding_box", "strict": True, "schema": BOX_SCHEMA},',
            '"json_schema": {"name": "bounding_box", "strict": False, "schema": BOX_SCHEMA},')]
