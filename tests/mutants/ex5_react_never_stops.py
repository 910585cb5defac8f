"""The loop ignores max_steps: it asks the model again and again."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_refuses_malformed_actions_and_endless_loops"]
REPLACE = [("    for _ in range(max_steps):\n        reply = client", "    while True:\n        reply = client")]
SAYS = ["request 4 goes past the end of the recorded conversation"]
