"""Responses API: returns the first output item's repr instead of output_text."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_responses_api"]


def respond_text(client, prompt, *, model="gpt-4o"):
    return str(client.responses.create(model=model, input=prompt).output[0])
