"""calculator() with eval(): right on arithmetic, and runs whatever else the model writes."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_calculator_refuses_what_is_not_arithmetic"]


def calculator(expression):
    return str(eval(expression))
