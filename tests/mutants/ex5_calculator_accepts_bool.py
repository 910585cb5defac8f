"""The calculator checks constants with isinstance(value, (int, float)): True is an int to it, so "True + 1" is 2."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_calculator_refuses_what_is_not_arithmetic"]
SAYS = ["calculator('True + 1')"]
REPLACE = [("if isinstance(node, ast.Constant) and type(node.value) in (int, float):",
            "if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):")]
