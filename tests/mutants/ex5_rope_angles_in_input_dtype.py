"""RoPE's frequencies and angles computed in x's dtype: in bfloat16 a position such as 1001 is rounded to 1000."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_keeps_dtype_and_computes_angles_in_float32"]
REPLACE = [("omega = theta ** (-torch.arange(half, dtype=torch.float32, device=x.device) * 2 / x.shape[-1])",
            "omega = theta ** (-torch.arange(half, dtype=x.dtype, device=x.device) * 2 / x.shape[-1])"),
           ("angles = positions.to(torch.float32)[:, None] * omega[None, :]",
            "angles = (positions.to(x.dtype)[:, None] * omega[None, :]).float()")]
