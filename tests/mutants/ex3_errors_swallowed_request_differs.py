"""Asks gpt-4o-mini and hides every error: the check must say the request differs, not crash on no answer."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_chat_completions"]
SAYS = ["model differs", "caught the error"]


def complete_text(client, prompt, *, model=MODEL):
    try:
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
        return completion.choices[0].message.content
    except Exception:
        return ""
