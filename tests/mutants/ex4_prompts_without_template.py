"""Uses the bare labels as prompts, ignoring the template."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip"]
SAYS = ["the largest difference of the"]
REPLACE = [("inputs = processor(text=[template.format(label) for label in labels], images=image,",
            "inputs = processor(text=list(labels), images=image,")]
