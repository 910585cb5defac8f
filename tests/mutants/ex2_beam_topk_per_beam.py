"""Takes the top tokens of each beam separately instead of the top over all beams x vocabulary."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
REPLACE = [("""        top_scores, top_index = torch.topk(totals, keep)
        source_beam, token = top_index // vocab, top_index % vocab""",
            """        per_beam_scores, per_beam_tokens = torch.topk(totals.view(batch, k, vocab), keep // k, dim=-1)
        top_scores, order = torch.sort(per_beam_scores.view(batch, -1), descending=True)
        source_beam = (torch.arange(k, device=device)[None, :, None].expand(batch, k, keep // k)
                       .reshape(batch, -1).gather(1, order))
        token = per_beam_tokens.view(batch, -1).gather(1, order)""")]
