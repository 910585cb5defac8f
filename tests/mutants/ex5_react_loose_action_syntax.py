"""'Action: calculator 2 + 2' accepted: the first word is the tool, the rest its argument."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_refuses_malformed_actions_and_endless_loops"]
REPLACE = [('match = re.fullmatch(r"Action:\\s*(\\w+)\\[(.*)\\]", actions[-1]) if actions else None',
            'match = re.fullmatch(r"Action:\\s*(\\w+)[\\[ ](.*?)\\]?", actions[-1]) if actions else None')]
