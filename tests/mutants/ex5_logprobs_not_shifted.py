"""Token t scored with the logits at position t (the model's guess for t + 1)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_sequence_logprobs_of_a_padded_batch"]
REPLACE = [("logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()",
            "logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, 1:].float()")]
