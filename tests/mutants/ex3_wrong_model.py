"""Text generation asks gpt-4o-mini instead of gpt-4o."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_chat_completions"]


def complete_text(client, prompt, *, model="gpt-4o"):
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
    return completion.choices[0].message.content
