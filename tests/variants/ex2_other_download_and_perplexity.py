"""Correct, differently: ignore_patterns instead of allow_patterns; perplexity with cross_entropy."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_download_fetches_what_the_model_needs",
          "checks/test_ex2.py::test_perplexity_matches_the_logits",
          "checks/test_ex2.py::test_beam_score_is_minus_log_perplexity"]


def download_model(repo_id, local_dir, *, endpoint=None):
    return Path(snapshot_download(repo_id=repo_id, local_dir=local_dir, endpoint=endpoint,
                                  ignore_patterns=["*.md", "LICENSE", ".gitattributes", "*.bin", "*.h5",
                                                   "*.msgpack", "*.onnx", "*.gguf", "onnx/*"]))


def perplexity(model, prompt_ids, continuation_ids):
    ids = torch.cat([prompt_ids, continuation_ids]).unsqueeze(0)
    labels = ids.clone()
    labels[0, : len(prompt_ids)] = -100
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    loss = torch.nn.functional.cross_entropy(logits[0, :-1], labels[0, 1:], ignore_index=-100)
    return torch.exp(loss).item()
