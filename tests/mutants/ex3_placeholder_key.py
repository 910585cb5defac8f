"""Falls back to a placeholder key: the error only comes later, as a 401 on the first request."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_client_without_key_fails_before_any_request"]


def make_client(api_key=None, *, base_url=None):
    return openai.OpenAI(api_key=api_key or os.getenv("OPENAI_API_KEY", "sk-placeholder"), base_url=base_url)
