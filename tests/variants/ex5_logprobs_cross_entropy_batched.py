"""Correct, differently: labels -100 outside the answer and cross_entropy(reduction="none"); options in one padded batch."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_sequence_logprobs_of_a_padded_batch",
          "checks/test_ex5.py::test_option_logprobs_match_the_logits"]


def sequence_logprobs(model, input_ids, attention_mask, prompt_lengths):
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    labels = labels.masked_fill(torch.arange(input_ids.shape[1])[None, :] < prompt_lengths[:, None], -100)
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits.float()
    nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), labels[:, 1:], reduction="none", ignore_index=-100)
    return -nll.sum(-1)


def option_logprobs(model, tokenizer, prompt, options):
    prompt_ids = tokenizer(prompt)["input_ids"]
    rows = [prompt_ids + tokenizer(o)["input_ids"] for o in options]
    width = max(map(len, rows))
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.no_grad():
        return sequence_logprobs(model, ids, mask, torch.full((len(rows),), len(prompt_ids)))
