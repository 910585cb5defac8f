"""No key check of its own: openai.OpenAI raises its own OpenAIError (which names OPENAI_API_KEY), not the
MissingAPIKeyError the docstring promises."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_client_without_key_fails_before_any_request"]
SAYS = ["not MissingAPIKeyError"]


def make_client(api_key=None, *, base_url=None):
    return openai.OpenAI(api_key=api_key or os.environ.get("OPENAI_API_KEY"), base_url=base_url, max_retries=3)
