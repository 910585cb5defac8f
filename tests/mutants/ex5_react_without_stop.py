"""No stop sequence: the model would go on to write its own Observation."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
REPLACE = [("messages=messages, stop=STOP).choices", "messages=messages).choices")]
