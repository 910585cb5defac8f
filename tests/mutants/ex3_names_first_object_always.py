"""The instruction names the red circle whatever object_name is (with object_name tacked on): the recorded
answers cannot tell, only the request's text does."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_box_in_pixels[green triangle-grounding_green_triangle.yaml]",
           "checks/test_ex3.py::test_locate_object_box_in_pixels[blue square-grounding_blue_square.yaml]"]
SAYS = ["names object_name only"]
REPLACE = [('{"type": "text", "text": f"Where is the {object_name}?"},',
            '{"type": "text", "text": f"Where is the red circle? ({object_name})"},')]
