"""Correct, differently: pads the texts to the model's maximum length (padding="max_length")."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_tensor_shapes"]
REPLACE = [('inputs = processor(text=texts, images=image, return_tensors="pt", padding=True)',
            'inputs = processor(text=texts, images=image, return_tensors="pt", padding="max_length", '
            'max_length=model.config.text_config.max_position_embeddings)')]
