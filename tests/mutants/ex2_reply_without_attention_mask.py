"""Passes only the input ids to generate(): the same reply here, but generate() then guesses the mask."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_generate_reply_equals_generate"]
SAYS = ["without the prompt's attention_mask"]
REPLACE = [("output = model.generate(**inputs, max_new_tokens=max_new_tokens, **generation_kwargs)",
            'output = model.generate(inputs["input_ids"], max_new_tokens=max_new_tokens, **generation_kwargs)')]
