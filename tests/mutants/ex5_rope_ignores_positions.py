"""Positions taken as 0..seq-1 whatever the caller passes (breaks with a KV cache)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding", "checks/test_ex5.py::test_rope_matches_at_the_paper_base"]
REPLACE = [("angles = positions.to(torch.float32)[:, None] * omega[None, :]",
            "angles = torch.arange(x.shape[-2], dtype=torch.float32)[:, None] * omega[None, :]")]
