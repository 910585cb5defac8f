"""The calculator lets complex literals through: "1j * 1j" is (-1+0j)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_calculator_refuses_what_is_not_arithmetic"]
SAYS = ["calculator('1j * 1j')"]
REPLACE = [("if isinstance(node, ast.Constant) and type(node.value) in (int, float):",
            "if isinstance(node, ast.Constant) and type(node.value) in (int, float, complex):")]
