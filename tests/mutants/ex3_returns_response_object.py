"""Returns the whole ChatCompletion object instead of the message text."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_chat_completions"]


def complete_text(client, prompt, *, model="gpt-4o"):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}])
