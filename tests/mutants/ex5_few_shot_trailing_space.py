"""The prompt ends with "A: " (a space the options already begin with)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_few_shot_prompt_format"]
REPLACE = [('return f"{shots}Q: {question}\\nA:"', 'return f"{shots}Q: {question}\\nA: "')]
