"""Always talks to the official API: the base_url argument (a lab proxy) is ignored."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_make_client_uses_its_arguments[base-url]"]
REPLACE = [("return openai.OpenAI(api_key=key, base_url=base_url, max_retries=3)",
            "return openai.OpenAI(api_key=key, max_retries=3)")]
