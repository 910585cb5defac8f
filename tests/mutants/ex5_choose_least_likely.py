"""choose_option() takes the argmin."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_logits"]
REPLACE = [("return int(option_logprobs(model, tokenizer, prompt, options).argmax())",
            "return int(option_logprobs(model, tokenizer, prompt, options).argmin())")]
