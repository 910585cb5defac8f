"""`predict` prints a closing line after the digit: the digit is no longer on the last line."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_predict_from_the_command_line"]
SAYS = ["last thing it prints"]
REPLACE = [("            print(predict_digit(model, photo))\n        return 0",
            "            print(predict_digit(model, photo))\n        print(\"done\")\n        return 0")]
