"""Returns the probabilities as 0-d tensors where the docstring promises floats."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip"]
SAYS = ["must be Python floats"]
REPLACE = [("return {label: float(p) for label, p in zip(labels, probabilities)}",
            "return dict(zip(labels, probabilities))")]
