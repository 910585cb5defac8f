"""Observations sent as the assistant's own words instead of a user message."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
REPLACE = [('messages.append({"role": "user", "content": f"Observation: {tools[',
            'messages.append({"role": "assistant", "content": f"Observation: {tools[')]
