"""Takes the CLS column (who attends to CLS) instead of the CLS row (what CLS attends to)."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_plot_attention_map"]
REPLACE = [("cls_map = full_map[0, 1:].reshape(grid, grid)", "cls_map = full_map[1:, 0].reshape(grid, grid)")]
