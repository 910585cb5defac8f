"""Correct, differently: labels -100 outside the answer and cross_entropy(reduction="none"); options in one padded
batch; per-token scores as the mean of the option's log-probabilities; the choice by max() over the indices."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_sequence_logprobs_of_a_padded_batch",
          "checks/test_ex5.py::test_option_logprobs_match_the_models_loss",
          "checks/test_ex5.py::test_option_logprobs_refuses_unknown_normalizations",
          "checks/test_ex5.py::test_choose_option_follows_the_normalization"]


def sequence_logprobs(model, input_ids, attention_mask, prompt_lengths):
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    labels = labels.masked_fill(torch.arange(input_ids.shape[1])[None, :] < prompt_lengths[:, None], -100)
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
    nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), labels[:, 1:], reduction="none", ignore_index=-100)
    return -nll.sum(-1)


def option_logprobs(model, tokenizer, prompt, options, *, normalization="sum", answer_context="A:"):
    def batch_of(context):
        context_ids = tokenizer(context)["input_ids"]
        rows = [context_ids + tokenizer(o)["input_ids"] for o in options]
        width = max(map(len, rows))
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        with torch.no_grad():
            return sequence_logprobs(model, ids, mask, torch.full((len(rows),), len(context_ids)))

    if normalization == "sum":
        return batch_of(prompt)
    if normalization == "per_token":
        return batch_of(prompt) / torch.tensor([float(len(tokenizer(o)["input_ids"])) for o in options])
    if normalization == "unconditional":
        return batch_of(prompt) - batch_of(answer_context)
    raise ValueError(normalization)


def choose_option(model, tokenizer, prompt, options, *, normalization="per_token", answer_context="A:"):
    scores = option_logprobs(model, tokenizer, prompt, options, normalization=normalization,
                             answer_context=answer_context).tolist()
    return max(range(len(options)), key=scores.__getitem__)
