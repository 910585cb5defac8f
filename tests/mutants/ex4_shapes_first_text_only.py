"""Reports input_ids of the first text alone (tokenized without the batch), not the padded pair."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_tensor_shapes"]
SAYS = ["padded to one length"]
REPLACE = [('"pixel_values": inputs["pixel_values"], "input_ids": inputs["input_ids"],',
            '"pixel_values": inputs["pixel_values"], "input_ids": processor(text=texts[:1], return_tensors="pt")["input_ids"],')]
