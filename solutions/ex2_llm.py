"""Exercise 2: a Qwen2 model folder, generate(), beam search by hand, perplexity.

The checks run on a tiny model with Qwen2-1.5B-Instruct's architecture, tokenizer layout
and chat template (fixtures/ex2/tiny-qwen2), and on the real Qwen2-1.5B-Instruct when you
point DLGRADE_QWEN2_PATH at its folder.

Written for transformers 5.24 (pinned in pyproject.toml): the checks compare your beam
search with the installed `generate()`, whose rules change between releases.

Run the checks: `pytest checks/test_ex2.py` (add `--lang zh` for Chinese hints).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

REPO_ID = "Qwen/Qwen2-1.5B-Instruct"
# What a model folder needs to load and run: weights in safetensors, the JSON configs, and
# the tokenizer files. Not README/LICENSE, and not the other weight formats some repos carry.
NEEDED_FILES = ["*.safetensors", "*.json", "*.jinja", "vocab.json", "merges.txt"]


def download_model(repo_id: str, local_dir: str | Path, *, endpoint: str | None = None) -> Path:
    """Download what is needed to run `repo_id` into `local_dir` and return that folder.

    Use `huggingface_hub.snapshot_download` with `local_dir=` (files land there, not only
    in the cache) and pass `endpoint` through (None means the real Hub; the checks give a
    local one). Download the safetensors weights, every .json file, the chat template
    (.jinja) and tokenizer files (vocab.json, merges.txt) — and nothing else: no README,
    no LICENSE, no other weight formats (*.bin, *.h5, *.msgpack, *.onnx, *.gguf).
    """
    # BEGIN SOLUTION
    folder = snapshot_download(repo_id, local_dir=str(local_dir), endpoint=endpoint, allow_patterns=NEEDED_FILES)
    return Path(folder)
    # END SOLUTION


def inspect_model_folder(folder: str | Path) -> dict:
    """Look at a model folder: its files, its JSON files, and the fields worth knowing.

    Returns a dict with
      "files":   {path relative to folder (str, "/" separators): size in bytes}, every file
                 below `folder` except those under hidden folders (".cache/");
      "json":    {relative path: parsed content} for every .json file;
      "summary": {
         "architecture": config.json "architectures"[0],
         "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
         "vocab_size", "max_position_embeddings": ints from config.json,
         "rope_theta": float — top-level "rope_theta" in older files, or
                       "rope_parameters"["rope_theta"] in files written by transformers 5,
         "dtype": str — "dtype", or "torch_dtype" in older files,
         "bos_token_id": int or None,
         "eos_token_ids": list of ints — generation_config.json's eos_token_id when that
                       file exists (it wins at generation time), else config.json's; a
                       single id becomes a one-element list,
         "pad_token_id": int or None — generation_config.json's, else config.json's,
         "generation_defaults": {key: generation_config.json[key]} for the keys
                       do_sample, temperature, top_p, top_k, repetition_penalty that it sets,
      }
    """
    # BEGIN SOLUTION
    folder = Path(folder)
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts[:-1]):
            files[rel.as_posix()] = path.stat().st_size
    parsed = {name: json.loads((folder / name).read_text(encoding="utf-8")) for name in files if name.endswith(".json")}
    config = parsed.get("config.json", {})
    generation = parsed.get("generation_config.json", {})

    def ids(value):
        return [] if value is None else list(value) if isinstance(value, list) else [value]

    rope_theta = config.get("rope_theta", (config.get("rope_parameters") or {}).get("rope_theta"))
    summary = {
        "architecture": config["architectures"][0],
        **{key: config[key] for key in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                        "num_key_value_heads", "vocab_size", "max_position_embeddings")},
        "rope_theta": float(rope_theta),
        "dtype": config.get("dtype", config.get("torch_dtype")),
        "bos_token_id": generation.get("bos_token_id", config.get("bos_token_id")),
        "eos_token_ids": ids(generation.get("eos_token_id", config.get("eos_token_id"))),
        "pad_token_id": generation.get("pad_token_id", config.get("pad_token_id")),
        "generation_defaults": {key: generation[key] for key in
                                ("do_sample", "temperature", "top_p", "top_k", "repetition_penalty")
                                if key in generation},
    }
    return {"files": files, "json": parsed, "summary": summary}
    # END SOLUTION


def load_model(folder: str | Path, *, dtype: torch.dtype | None = None,
               device: str = "cpu") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the causal LM and its tokenizer from a local folder.

    `dtype` None keeps the dtype stored in config.json (a bfloat16 folder loads in bfloat16);
    move the model to `device`. Return (model, tokenizer). from_pretrained already returns
    the model in eval mode (dropout off), which is what generation needs.
    """
    # BEGIN SOLUTION
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype if dtype is not None else "auto")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model.to(device), tokenizer
    # END SOLUTION


def describe_model(model: PreTrainedModel) -> dict:
    """What print(model.config), print(model) and a walk over the parameters show.

    Returns {"config": model.config.to_dict(), "structure": str(model),
             "parameters": [{"name", "shape" (tuple of ints), "device" (str, e.g. "cpu"),
                             "dtype" (str, e.g. "torch.bfloat16"), "numel" (int)}, ...]
                           one entry per parameter in named_parameters() order,
             "total_parameters": int, each parameter counted once (tied weights are one)}.
    """
    # BEGIN SOLUTION
    parameters = [{"name": name, "shape": tuple(p.shape), "device": str(p.device), "dtype": str(p.dtype),
                   "numel": p.numel()} for name, p in model.named_parameters()]
    return {"config": model.config.to_dict(), "structure": str(model), "parameters": parameters,
            "total_parameters": sum(p["numel"] for p in parameters)}
    # END SOLUTION


def generate_reply(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, user_message: str, *,
                   max_new_tokens: int = 32, **generation_kwargs) -> str:
    """One chat turn with model.generate().

    Build the prompt with the chat template (one user message, add_generation_prompt=True),
    call model.generate with the attention mask, `max_new_tokens` and every keyword in
    `generation_kwargs` (do_sample, num_beams, temperature, ...), and return only the new
    text: decode the generated tokens after the prompt with skip_special_tokens=True.
    """
    # BEGIN SOLUTION
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": user_message}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True).to(model.device)
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, **generation_kwargs)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    # END SOLUTION


def beam_search(model: PreTrainedModel, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None = None, *,
                num_beams: int = 4, max_new_tokens: int = 20, eos_token_id: int | list[int] | None = None,
                pad_token_id: int | None = None, length_penalty: float = 1.0,
                early_stopping: bool | str = False) -> tuple[torch.LongTensor, torch.Tensor]:
    """Beam search without generate(): model.model(...) + model.lm_head, with the KV cache.

    Args:
        input_ids: (batch, prompt_len) prompt token ids, left-padded when rows differ in length.
        attention_mask: (batch, prompt_len), 0 on padding; None means no padding.
        num_beams, max_new_tokens, length_penalty, early_stopping: as in generate().
        eos_token_id: id or ids that end a hypothesis; None: hypotheses end only at max length.
        pad_token_id: fills the output after a finished hypothesis; a missing (or 0) pad id
            falls back to the first EOS id, as generate() does.

    Returns:
        (sequences, scores): sequences (batch, prompt_len + generated) int64, the best
        hypothesis per row (prompt included, padded to the longest); scores (batch,)
        float32, each the sum of its token log-probs divided by
        generated_length ** length_penalty (generated_length counts the EOS token).
        Both equal model.generate(num_beams=..., do_sample=False, output_scores=True,
        return_dict_in_generate=True)'s sequences and sequences_scores.

    Use the cache: prefill the prompt once (`model.model(input_ids=..., attention_mask=...,
    position_ids=..., cache=DynamicCache(config=model.config), use_cache=True)`; the
    curriculum's `past_key_values=` is the older name of `cache=`; calling `model(...)` and
    reading `.logits` is fine too), then feed one token per beam per step, and after choosing
    beams reorder the cache with cache.reorder_cache(idx). The rows of the batch may be
    searched together (batch * num_beams sequences per call) or one row at a time; the prompt
    may be encoded once per row (then repeat the cache per beam) or once per beam. Position
    ids come from the cumulative attention mask (cumsum - 1: a left-padded row starts at 0
    after its padding) and the checks look at the positions the model receives. Log-probs in
    float32; scores are compared with generate()'s with a relative tolerance that covers
    float32 rounding, not a different formula.

    The rules generate() follows in transformers 5.24 (they decide ties and lengths):
    - the prompt is repeated per beam; at the first step only beam 0 is live (others -1e9);
    - each step keeps the top K = max(2, 1 + number of EOS ids) * num_beams candidates over
      all beams x vocabulary by summed log-prob;
    - a candidate hits EOS or max length; only hits ranked in the first num_beams of those K
      may finish; finished scores are sum / generated_length ** length_penalty;
    - running beams: the best num_beams candidates that did not finish;
    - the finished set keeps the best num_beams; with early_stopping=True a row whose set
      is full accepts no more;
    - the search stops when no row can improve (early-stopping heuristic: best running sum
      divided by (current generated length, or max length if early_stopping="never" and
      length_penalty > 0) ** length_penalty is not above the worst finished score), when
      every row is full and early_stopping is True, or when every candidate hit max length.
    """
    # BEGIN SOLUTION
    batch, prompt_len = input_ids.shape
    device = input_ids.device
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    eos = [] if eos_token_id is None else [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    eos_tensor = torch.tensor(eos, dtype=torch.long, device=device)
    fill = pad_token_id or (eos[0] if eos else -1)
    k = num_beams
    keep = max(2, 1 + len(eos)) * k
    max_length = prompt_len + max_new_tokens
    neg = -1.0e9

    mask = attention_mask.repeat_interleave(k, dim=0)
    positions = mask.long().cumsum(-1) - 1
    positions.masked_fill_(mask == 0, 1)
    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        hidden = model.model(input_ids=input_ids.repeat_interleave(k, dim=0), attention_mask=mask,
                             position_ids=positions, cache=cache, use_cache=True).last_hidden_state
        logits = model.lm_head(hidden[:, -1, :]).float()
    next_position = positions[:, -1:] + 1

    running = torch.full((batch, k, max_length), fill, dtype=torch.long, device=device)
    running[:, :, :prompt_len] = input_ids[:, None, :]
    running_scores = torch.zeros(batch, k, device=device)
    running_scores[:, 1:] = neg
    finished = running.clone()
    finished_scores = torch.full((batch, k), neg, device=device)
    finished_len = torch.zeros(batch, k, dtype=torch.long, device=device)
    is_finished = torch.zeros(batch, k, dtype=torch.bool, device=device)
    can_improve = torch.ones(batch, 1, dtype=torch.bool, device=device)
    in_top_k = torch.arange(keep, device=device) < k
    rows = torch.arange(batch, device=device)[:, None]
    cur_len = prompt_len

    while True:
        log_probs = torch.log_softmax(logits, dim=-1)
        vocab = log_probs.shape[-1]
        totals = (log_probs.view(batch, k, vocab) + running_scores[:, :, None]).view(batch, k * vocab)
        top_scores, top_index = torch.topk(totals, keep)
        source_beam, token = top_index // vocab, top_index % vocab
        candidates = running[rows, source_beam]
        candidates[:, :, cur_len] = token
        hits = torch.isin(token, eos_tensor) | (cur_len + 1 >= max_length)

        # the next running beams: the best candidates that did not finish
        open_scores = top_scores + hits.float() * neg
        chosen = torch.topk(open_scores, k).indices
        running, running_scores = candidates[rows, chosen], open_scores[rows, chosen]
        beam_idx = (source_beam[rows, chosen] + rows * k).view(-1)

        # the finished set: merge the hits ranked in the top num_beams, keep the best num_beams
        just_finished = hits & in_top_k[None, :]
        generated = cur_len + 1 - prompt_len
        new_scores = top_scores / generated ** length_penalty
        full = is_finished.all(-1, keepdim=True) & (early_stopping is True)
        new_scores = new_scores + (full | ~can_improve | ~just_finished).float() * neg
        merged_scores = torch.cat([finished_scores, new_scores], dim=1)
        best = torch.topk(merged_scores, k).indices
        finished = torch.cat([finished, candidates], dim=1)[rows, best]
        finished_scores = merged_scores[rows, best]
        finished_len = torch.cat([finished_len, torch.full_like(token, generated)], dim=1)[rows, best]
        is_finished = torch.cat([is_finished, just_finished], dim=1)[rows, best]

        cur_len += 1
        hypothetical = max_length - prompt_len if early_stopping == "never" and length_penalty > 0 else generated
        best_running = running_scores[:, :1] / hypothetical ** length_penalty
        worst_finished = torch.where(is_finished, finished_scores.min(-1, keepdim=True).values, neg)
        can_improve = can_improve & (best_running > worst_finished).any(-1, keepdim=True)
        all_full = bool(is_finished.all()) and early_stopping is True
        if not (bool(can_improve.any()) and not all_full and not bool(hits.all())):
            break

        cache.reorder_cache(beam_idx)
        mask = torch.cat([mask, mask.new_ones(batch * k, 1)], dim=1)
        with torch.no_grad():
            hidden = model.model(input_ids=running[:, :, cur_len - 1].reshape(-1, 1), attention_mask=mask,
                                 position_ids=next_position, cache=cache, use_cache=True).last_hidden_state
            logits = model.lm_head(hidden[:, -1, :]).float()
        next_position = next_position + 1

    length = prompt_len + int(finished_len[:, 0].max())
    return finished[:, 0, :length], finished_scores[:, 0]
    # END SOLUTION


def perplexity(model: PreTrainedModel, prompt_ids: torch.LongTensor, continuation_ids: torch.LongTensor) -> float:
    """Perplexity of a continuation given its prompt: exp(mean NLL over the continuation tokens only).

    prompt_ids: (prompt_len,) and continuation_ids: (n,) 1-D int64, n >= 1. Run the model on
    prompt + continuation once; the NLL of continuation token i is -log softmax of the
    logits at the position before it. Compute log-probs in float32. Returns a Python float.
    """
    # BEGIN SOLUTION
    ids = torch.cat([prompt_ids, continuation_ids])[None, :].to(model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    log_probs = torch.log_softmax(logits[:-1], dim=-1)
    targets = ids[0, 1:]
    token_log_probs = log_probs[torch.arange(len(targets)), targets][-len(continuation_ids):]
    return float(torch.exp(-token_log_probs.mean()))
    # END SOLUTION


def compare_greedy_and_beam(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str, *,
                            num_beams: int = 4, max_new_tokens: int = 24) -> dict:
    """Greedy and beam-search continuations of a plain-text prompt, with their perplexities.

    Generate both with model.generate (do_sample=False, repetition_penalty=1.0, the
    same max_new_tokens; num_beams=1 for greedy), and return {"greedy_text", "beam_text"
    (decoded continuations only), "greedy_ppl", "beam_ppl" (perplexity() of each
    continuation's token ids given the prompt)}.
    """
    # BEGIN SOLUTION
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(model.device)
    result = {}
    for name, beams in (("greedy", 1), ("beam", num_beams)):
        output = model.generate(input_ids=prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False,
                                num_beams=beams, max_new_tokens=max_new_tokens, repetition_penalty=1.0)
        continuation = output[0, prompt_ids.shape[1]:]
        result[f"{name}_text"] = tokenizer.decode(continuation, skip_special_tokens=True)
        result[f"{name}_ppl"] = perplexity(model, prompt_ids[0], continuation)
    return result
    # END SOLUTION
