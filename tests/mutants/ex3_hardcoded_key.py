"""Checks that a key exists, then uses a key written in the code."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_make_client_uses_its_arguments"]
SAYS = ["the client's API key"]
REPLACE = [("return openai.OpenAI(api_key=key, base_url=base_url, max_retries=3)",
            "return openai.OpenAI(api_key=\"sk-dlgrade-hardcoded\", base_url=base_url, max_retries=3)")]
