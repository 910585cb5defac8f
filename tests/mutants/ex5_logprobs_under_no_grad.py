"""Sequence log-probs computed under torch.no_grad(): the policy cannot be trained through them."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_sequence_logprobs_of_a_padded_batch"]
REPLACE = [("    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()\n",
            "    with torch.no_grad():\n"
            "        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()\n")]
