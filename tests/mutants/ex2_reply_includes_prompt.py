"""Decodes the whole output, prompt included."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_generate_reply_equals_generate"]
REPLACE = [('return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)',
            'return tokenizer.decode(output[0], skip_special_tokens=True)')]
