"""The calculator formats its result with %g instead of returning str() of it: "3" for 1.5 * 2, rounded long floats."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_calculator_evaluates_arithmetic", "checks/test_ex5.py::test_calculator_operators"]
SAYS = ["str() of the result"]
REPLACE = [("    return str(evaluate(tree.body))", '    return f"{evaluate(tree.body):g}"')]
