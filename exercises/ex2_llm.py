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
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


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
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def load_model(folder: str | Path, *, dtype: torch.dtype | None = None,
               device: str = "cpu") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load the causal LM and its tokenizer from a local folder.

    `dtype` None keeps the dtype stored in config.json (a bfloat16 folder loads in bfloat16);
    move the model to `device`. Return (model, tokenizer). from_pretrained already returns
    the model in eval mode (dropout off), which is what generation needs.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def describe_model(model: PreTrainedModel) -> dict:
    """What print(model.config), print(model) and a walk over the parameters show.

    Returns {"config": model.config.to_dict(), "structure": str(model),
             "parameters": [{"name", "shape" (tuple of ints), "device" (str, e.g. "cpu"),
                             "dtype" (str, e.g. "torch.bfloat16"), "numel" (int)}, ...]
                           one entry per parameter in named_parameters() order,
             "total_parameters": int, each parameter counted once (tied weights are one)}.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def generate_reply(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, user_message: str, *,
                   max_new_tokens: int = 32, **generation_kwargs) -> str:
    """One chat turn with model.generate().

    Build the prompt with the chat template (one user message, add_generation_prompt=True),
    call model.generate with the attention mask, `max_new_tokens` and every keyword in
    `generation_kwargs` (do_sample, num_beams, temperature, ...), and return only the new
    text: decode the generated tokens after the prompt with skip_special_tokens=True.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


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
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def perplexity(model: PreTrainedModel, prompt_ids: torch.LongTensor, continuation_ids: torch.LongTensor) -> float:
    """Perplexity of a continuation given its prompt: exp(mean NLL over the continuation tokens only).

    prompt_ids: (prompt_len,) and continuation_ids: (n,) 1-D int64, n >= 1. Run the model on
    prompt + continuation once; the NLL of continuation token i is -log softmax of the
    logits at the position before it. Compute log-probs in float32. Returns a Python float.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def compare_greedy_and_beam(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str, *,
                            num_beams: int = 4, max_new_tokens: int = 24) -> dict:
    """Greedy and beam-search continuations of a plain-text prompt, with their perplexities.

    Generate both with model.generate (do_sample=False, repetition_penalty=1.0, the
    same max_new_tokens; num_beams=1 for greedy), and return {"greedy_text", "beam_text"
    (decoded continuations only), "greedy_ppl", "beam_ppl" (perplexity() of each
    continuation's token ids given the prompt)}.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")
