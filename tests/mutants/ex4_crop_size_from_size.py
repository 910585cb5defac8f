"""Reports the resize target ("size") as the crop size."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_read_configs"]
REPLACE = [('"crop_size": preprocessor["crop_size"],', '"crop_size": preprocessor["size"],')]
