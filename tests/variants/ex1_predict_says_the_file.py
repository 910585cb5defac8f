"""Correct, differently: `predict` prints the file name with the digit ("digit0_0.jpg: digit 9")."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_predict_from_the_command_line"]
REPLACE = [("            print(predict_digit(model, photo))",
            "            print(f\"{args.photo.name}: digit {predict_digit(model, photo)}\")")]
