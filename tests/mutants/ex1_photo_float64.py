"""preprocess_photo() returns float64 (numpy's default), which the float32 model refuses."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader"]
SAYS = ["torch.float32"]
REPLACE = [("    tensor = torch.tensor(canvas, dtype=torch.float32)[None, None]", "    tensor = torch.tensor(canvas)[None, None]")]
