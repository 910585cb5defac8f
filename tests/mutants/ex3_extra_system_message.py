"""Adds a system message of its own to the text request."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_chat_completions"]
SAYS = ["an extra system message"]
REPLACE = [("""        messages=[{"role": "user", "content": prompt}],
    )""", """        messages=[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": prompt}],
    )""")]
