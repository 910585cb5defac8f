"""Turns retries off, so a single 429 rate-limit answer fails the call."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_rate_limit_is_retried"]


def make_client(api_key=None, *, base_url=None):
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
    if not key:
        raise MissingAPIKeyError("set OPENAI_API_KEY")
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)
