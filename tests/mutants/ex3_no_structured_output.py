"""Asks for JSON in prose (json_object mode) instead of the box schema."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_box_in_pixels"]
REPLACE = [("""        response_format={
            "type": "json_schema",
            "json_schema": {"name": "bounding_box", "strict": True, "schema": BOX_SCHEMA},
        },""", """        response_format={"type": "json_object"},""")]
