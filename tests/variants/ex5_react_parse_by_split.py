"""Correct, differently: the transcript as a list of turns, actions parsed with str.partition, a safe calculator by token check."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer",
          "checks/test_ex5.py::test_react_refuses_malformed_actions_and_endless_loops",
          "checks/test_ex5.py::test_calculator_evaluates_arithmetic", "checks/test_ex5.py::test_calculator_operators",
          "checks/test_ex5.py::test_calculator_refuses_what_is_not_arithmetic"]


def calculator(expression):
    tree = ast.parse(expression, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop)
    if not all(isinstance(node, allowed) for node in ast.walk(tree)) or any(
            isinstance(node, ast.Constant) and type(node.value) not in (int, float) for node in ast.walk(tree)):
        raise ValueError("only arithmetic")
    return str(eval(compile(tree, "<calculator>", "eval"), {"__builtins__": {}}))


def react(client, question, tools, *, model="gpt-4o", max_steps=5):
    turns = [("system", REACT_INSTRUCTIONS), ("user", "Question: " + question)]
    steps = 0
    while steps < max_steps:
        steps += 1
        answer = client.chat.completions.create(
            model=model, stop=STOP, messages=[{"role": r, "content": c} for r, c in turns]).choices[0].message.content
        turns.append(("assistant", answer))
        finals = [line.split("Final Answer:", 1)[1] for line in answer.splitlines() if line.lstrip().startswith("Final Answer:")]
        if finals:
            return finals[0].strip()
        action = ([line.strip() for line in answer.splitlines() if line.strip().startswith("Action:")] or [""])[-1]
        name, bracket, rest = action.removeprefix("Action:").strip().partition("[")
        if not bracket or not rest.endswith("]") or name not in tools:
            raise ReActError("malformed action: " + action)
        turns.append(("user", "Observation: " + tools[name](rest[:-1])))
    raise ReActError("no final answer")
