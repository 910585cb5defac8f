"""Examples separated by one newline, not a blank line."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_few_shot_prompt_format"]
REPLACE = [('shots = "".join(f"Q: {q}\\nA: {a}\\n\\n" for q, a in examples)',
            'shots = "".join(f"Q: {q}\\nA: {a}\\n" for q, a in examples)')]
