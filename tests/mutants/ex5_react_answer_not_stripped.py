"""The final answer keeps the space after 'Final Answer:'."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
REPLACE = [('return line[len("Final Answer:"):].strip()', 'return line[len("Final Answer:"):]')]
