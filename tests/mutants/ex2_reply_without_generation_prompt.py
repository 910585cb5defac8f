"""Builds the chat prompt without the assistant header (add_generation_prompt=False)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_generate_reply_equals_generate"]
REPLACE = [('[{"role": "user", "content": user_message}], add_generation_prompt=True,',
            '[{"role": "user", "content": user_message}], add_generation_prompt=False,')]
