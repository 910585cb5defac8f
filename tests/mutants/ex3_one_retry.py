"""Retries once (max_retries=1) where the docstring asks for at least two."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_rate_limit_is_retried"]
SAYS = ["max_retries=2"]
REPLACE = [("return openai.OpenAI(api_key=key, base_url=base_url, max_retries=3)",
            "return openai.OpenAI(api_key=key, base_url=base_url, max_retries=1)")]
