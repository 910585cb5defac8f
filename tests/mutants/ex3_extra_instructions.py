"""Sends instructions= with the Responses API text request."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_generation_responses_api"]
SAYS = ["an extra system message"]
REPLACE = [("response = client.responses.create(model=model, input=prompt)",
            "response = client.responses.create(model=model, input=prompt, instructions=\"Answer briefly.\")")]
