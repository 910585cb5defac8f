"""A final answer is seen only when the reply starts with it (not after a Thought line)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
REPLACE = [("        for line in lines:\n            if line.startswith(\"Final Answer:\"):",
            "        for line in lines[:1]:\n            if line.startswith(\"Final Answer:\"):")]
