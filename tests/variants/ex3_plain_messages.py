"""Correct, differently: error messages in the learner's own words (no "OPENAI_API_KEY", no "refused"), the
refusal text as the whole message, and API errors caught and re-raised unchanged."""
TARGET = "ex3_openai.py"
PASSES = ["checks/test_ex3.py::test_client_without_key_fails_before_any_request",
          "checks/test_ex3.py::test_locate_object_bad_answer_raises_grounding_error",
          "checks/test_ex3.py::test_locate_object_api_error_propagates",
          "checks/test_ex3.py::test_text_api_errors_propagate"]
REPLACE = [
    ("""        raise MissingAPIKeyError(
            "no OpenAI API key: pass api_key=... or set the OPENAI_API_KEY environment variable"
        )""", """        raise MissingAPIKeyError("没有密钥")"""),
    ("""        raise GroundingError(f"the model refused: {message.refusal}")""",
     """        raise GroundingError(message.refusal)"""),
    ("""    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
    )""", """    try:
        completion = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
        )
    except openai.APIStatusError as exc:
        print(f"the API answered HTTP {exc.status_code}")
        raise"""),
]
