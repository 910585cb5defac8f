"""An unknown tool name falls back to the lookup table instead of being refused."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_refuses_malformed_actions_and_endless_loops"]
REPLACE = [("        if match is None or match.group(1) not in tools:", "        if match is None:"),
           ("tools[match.group(1)](match.group(2))", "tools.get(match.group(1), tools[\"lookup\"])(match.group(2))")]
