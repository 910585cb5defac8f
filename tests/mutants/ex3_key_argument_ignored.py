"""Reads the key from OPENAI_API_KEY only: the api_key argument is ignored."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_make_client_uses_its_arguments[key-argument]"]
REPLACE = [("    key = api_key if api_key is not None else os.environ.get(\"OPENAI_API_KEY\")\n",
            "    key = os.environ.get(\"OPENAI_API_KEY\")\n")]
