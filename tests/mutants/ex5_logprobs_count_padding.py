"""Sequence log-prob counts the padding after the answer."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_sequence_logprobs_of_a_padded_batch"]
REPLACE = [("answer = (positions[None, :] >= prompt_lengths[:, None]) & attention_mask[:, 1:].bool()",
            "answer = positions[None, :] >= prompt_lengths[:, None]")]
