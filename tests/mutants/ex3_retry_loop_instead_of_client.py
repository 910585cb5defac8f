"""A client with max_retries=0 and a retry loop of its own in complete_text(): the client the docstring
promises does not retry, so every other call (and every caller's own request) fails at the first 429."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_rate_limit_is_retried"]
SAYS = ["max_retries=2"]


def make_client(api_key=None, *, base_url=None):
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
    if not key:
        raise MissingAPIKeyError("set OPENAI_API_KEY")
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)


def complete_text(client, prompt, *, model=MODEL):
    import time
    for attempt in range(4):
        try:
            completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}])
            return completion.choices[0].message.content
        except openai.RateLimitError:
            if attempt == 3:
                raise
            time.sleep(0.1)
