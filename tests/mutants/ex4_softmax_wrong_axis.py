"""Softmax over the image axis instead of the labels."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip",
           "checks/test_ex4.py::test_zero_shot_accuracy_on_held_out_images"]
REPLACE = [("probabilities = model(**inputs).logits_per_image.softmax(dim=-1)[0]",
            "probabilities = model(**inputs).logits_per_image.softmax(dim=0)[0]")]
