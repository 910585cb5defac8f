"""Ignores the client argument and sends the request through a client of its own."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_chat_completions"]
SAYS = ["no request reached the recorded API"]


def complete_text(client, prompt, *, model=MODEL):
    own = openai.OpenAI(api_key=client.api_key, max_retries=0)
    completion = own.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}])
    return completion.choices[0].message.content
