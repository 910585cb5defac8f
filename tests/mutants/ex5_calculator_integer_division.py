"""calculator() turns / into integer division."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_calculator_evaluates_arithmetic", "checks/test_ex5.py::test_calculator_operators"]
REPLACE = [("ast.Div: operator.truediv", "ast.Div: operator.floordiv")]
