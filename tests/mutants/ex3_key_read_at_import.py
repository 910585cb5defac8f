"""Reads OPENAI_API_KEY once, when the module is imported: a key set afterwards is never seen."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_make_client_uses_its_arguments[key-from-environment]"]
SAYS = ["a key read when the module was imported"]

API_KEY_AT_IMPORT = os.environ.get("OPENAI_API_KEY")


def make_client(api_key=None, *, base_url=None):
    key = api_key if api_key is not None else API_KEY_AT_IMPORT
    if not key:
        raise MissingAPIKeyError("no OpenAI API key")
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=3)
