"""Formats the prompts with PROMPT_TEMPLATE whatever template is passed."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip[template-argument]"]
SAYS = ["template argument"]
REPLACE = [("inputs = processor(text=[template.format(label) for label in labels], images=image,",
            "inputs = processor(text=[PROMPT_TEMPLATE.format(label) for label in labels], images=image,")]
