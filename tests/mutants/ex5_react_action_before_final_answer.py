"""The loop looks at the actions first: a reply with an Action line and a Final Answer line runs the action and goes on."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
SAYS = ["request 2 goes past the end of the recorded conversation"]
REPLACE = [('        for line in lines:\n            if line.startswith("Final Answer:"):\n'
            '                return line[len("Final Answer:"):].strip()\n'
            '        actions = [line for line in lines if line.startswith("Action:")]\n',
            '        actions = [line for line in lines if line.startswith("Action:")]\n'
            '        for line in [] if actions else lines:\n            if line.startswith("Final Answer:"):\n'
            '                return line[len("Final Answer:"):].strip()\n')]
