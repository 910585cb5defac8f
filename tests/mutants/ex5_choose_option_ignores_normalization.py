"""choose_option() does not pass normalization on: it always ranks by option_logprobs' default, the sum."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_choose_option_follows_the_normalization"]
REPLACE = [("scores = option_logprobs(model, tokenizer, prompt, options, normalization=normalization,\n"
            "                             answer_context=answer_context)",
            "scores = option_logprobs(model, tokenizer, prompt, options)")]
