"""Never looks at message.refusal; hands the empty content to the parser."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_bad_answer_raises_grounding_error[refusal-grounding_refusal.yaml]"]
REPLACE = [("""    if message.refusal:
        raise GroundingError(f"the model refused: {message.refusal}")
""", "")]
