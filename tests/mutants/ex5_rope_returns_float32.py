"""Returns float32 whatever x's dtype."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_keeps_dtype_and_computes_angles_in_float32"]
REPLACE = [("x2 * cos + x1 * sin], dim=-1).to(x.dtype)", "x2 * cos + x1 * sin], dim=-1)")]
