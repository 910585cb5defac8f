"""Checks for exercise 2: a Qwen2 model folder, generate(), beam search by hand, perplexity.

Oracles are independent of the reference solution: the real files and named_parameters()
for the reports, the installed transformers' `generate()` for generation and beam search,
and a log-softmax over the model's logits for perplexity. The model is the tiny Qwen2 of
fixtures/ex2 (built by fixtures/ex2/build_model.py); set DLGRADE_QWEN2_PATH to a
Qwen2-1.5B-Instruct folder to run the marked checks on the real model too.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from dlgrade import fakehub
from dlgrade.external import real_folder
from dlgrade.feedback import expect, expect_type, fail, show
from dlgrade.paths import FIXTURES_DIR

FILE = "ex2_llm.py"
TINY = FIXTURES_DIR / "ex2" / "tiny-qwen2"
LEGACY_CONFIGS = FIXTURES_DIR / "ex2" / "qwen2-1.5b-instruct-configs"
REAL_ENV = "DLGRADE_QWEN2_PATH"
EOS_IDS = [1999, 1997]  # <|im_end|>, <|endoftext|> of the tiny model, as in Qwen2-Instruct
PROMPTS = ["The for statement", "Exceptions are", "A class definition", "The import system", "x",
           "Names refer to objects.", "What is assert?", "In a generator function, the"]
SCORE_ATOL = 1e-5
# A prompt of about 420 tokens (with 64 new ones, within the 512 positions): long enough
# that re-encoding it at every step shows in the time.
SPEED_PROMPT = " ".join(PROMPTS * 12)
# Measured on the tiny model with SPEED_PROMPT, 4 beams, 64 new tokens, one thread, on the
# 2-core dev machine: the reference beam search took 0.87-0.92x the time of generate() (median
# rounds, 5 runs); without the KV cache 7.1-9.1x (4.2-5.0x with a 210-token prompt, too close
# to the gate). Ratio of fastest rounds, 3 runs each: idle 0.89-0.93x vs 8.2-8.6x; with the
# other core busy and pytest-benchmark off 0.89-0.94x vs 7.6-8.0x. More than 5x means the
# cache is not used.
SPEED_RATIO_LIMIT = 5.0

pytestmark = pytest.mark.time_limit(60)
# The real 1.5B model on a CPU: measured here with a random-weight Qwen2-1.5B (the real config,
# bfloat16, one thread, the other core busy), the reference's generate_reply check took 55 s
# greedy and 120 s with 3 beams, the real-model beam search check 34 s (token for token equal
# to generate). On a GPU these take seconds.
REAL_MODEL_TIME_LIMIT = 600 if not torch.cuda.is_available() else 120


@pytest.fixture(scope="module")
def ex2(target):
    return target.module(FILE)


@pytest.fixture(scope="session")
def tiny():
    torch.set_num_threads(1)  # two threads on a loaded 2-core box were far slower (issue 7's measurement)
    model = AutoModelForCausalLM.from_pretrained(TINY).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY)
    return model, tokenizer


@pytest.fixture(scope="session",
                params=["tiny", pytest.param("real", marks=pytest.mark.time_limit(REAL_MODEL_TIME_LIMIT))])
def any_model(request, tiny):
    """The tiny model, and the real Qwen2-1.5B-Instruct when DLGRADE_QWEN2_PATH names its folder."""
    if request.param == "tiny":
        return TINY, *tiny
    folder = real_folder(REAL_ENV, "Qwen2-1.5B-Instruct")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto").to(device).eval()
    return folder, model, AutoTokenizer.from_pretrained(folder)


@contextmanager
def only_explicit_settings(model):
    """generate() merges model.generation_config (Qwen's: sampling, repetition_penalty 1.05/1.1)
    into every call; an empty config makes the oracle use exactly the settings it passes."""
    saved = model.generation_config
    model.generation_config = GenerationConfig()
    try:
        yield
    finally:
        model.generation_config = saved


def oracle_beam(model, input_ids, attention_mask, **settings_):
    with only_explicit_settings(model), torch.no_grad():
        out = model.generate(input_ids=input_ids, attention_mask=attention_mask, do_sample=False,
                             output_scores=True, return_dict_in_generate=True, **settings_)
    return out.sequences, out.sequences_scores


def left_padded(tokenizer, texts: list[str]):
    tokenizer.padding_side = "left"
    enc = tokenizer(texts, return_tensors="pt", padding=True)
    return enc["input_ids"], enc["attention_mask"]


# ---------------------------------------------------------------- ex2.1 download


def hub_repo() -> tuple[dict[str, bytes], set[str]]:
    """The repo the local hub serves: the tiny model's files under Qwen2-Instruct's names, plus
    what a repo also carries (README, LICENSE) and weight formats nobody needs here."""
    files = {p.name: p.read_bytes() for p in TINY.iterdir() if p.is_file()}
    bpe = json.loads(files["tokenizer.json"])["model"]
    files["vocab.json"] = json.dumps(bpe["vocab"]).encode()
    files["merges.txt"] = ("#version: 0.2\n" + "\n".join(" ".join(m) for m in bpe["merges"])).encode()
    needed = set(files)
    files.update({"README.md": b"# Qwen2-1.5B-Instruct (tiny stand-in)\n", "LICENSE": b"Apache-2.0\n",
                  ".gitattributes": b"*.safetensors filter=lfs\n", "pytorch_model.bin": b"\0" * 64,
                  "tf_model.h5": b"\0" * 64, "flax_model.msgpack": b"\0" * 64, "onnx/model.onnx": b"\0" * 64,
                  "qwen2-1_5b-instruct-q4_0.gguf": b"\0" * 64})
    return files, needed


@pytest.mark.item("ex2.1")
def test_download_fetches_what_the_model_needs(ex2, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    files, needed = hub_repo()
    with fakehub.serve({"Qwen/Qwen2-1.5B-Instruct": files}) as hub:
        folder = ex2.download_model("Qwen/Qwen2-1.5B-Instruct", tmp_path / "qwen2", endpoint=hub.endpoint)
        fetched = hub.fetched_files("Qwen/Qwen2-1.5B-Instruct")
    expect(Path(folder).resolve() == (tmp_path / "qwen2").resolve(), "download_model() returns local_dir",
           expected=str(tmp_path / "qwen2"), got=str(folder))
    expect(not fetched - needed, "downloaded files the model does not need", got=sorted(fetched - needed),
           hint="pass allow_patterns (or ignore_patterns) to snapshot_download")
    missing = {name for name in needed if not (tmp_path / "qwen2" / name).is_file()}
    expect(not missing, "files missing from local_dir", got=sorted(missing))
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "qwen2")
    expect(model.config.model_type == "qwen2", "the downloaded folder loads as a Qwen2 model")


# ---------------------------------------------------------------- ex2.2 inspect the folder


def expected_summary(folder: Path) -> dict:
    config = json.loads((folder / "config.json").read_text())
    generation = json.loads((folder / "generation_config.json").read_text())
    eos = generation.get("eos_token_id", config.get("eos_token_id"))
    return {
        "architecture": config["architectures"][0], "hidden_size": config["hidden_size"],
        "num_hidden_layers": config["num_hidden_layers"], "num_attention_heads": config["num_attention_heads"],
        "num_key_value_heads": config["num_key_value_heads"], "vocab_size": config["vocab_size"],
        "max_position_embeddings": config["max_position_embeddings"],
        "rope_theta": float(config.get("rope_theta") or config["rope_parameters"]["rope_theta"]),
        "dtype": config.get("dtype") or config.get("torch_dtype"),
        "bos_token_id": generation.get("bos_token_id", config.get("bos_token_id")),
        "eos_token_ids": eos if isinstance(eos, list) else [eos],
        "pad_token_id": generation.get("pad_token_id", config.get("pad_token_id")),
        "generation_defaults": {k: generation[k] for k in ("do_sample", "temperature", "top_p", "top_k",
                                                           "repetition_penalty") if k in generation},
    }


@pytest.mark.item("ex2.2")
@pytest.mark.parametrize("folder", [TINY, LEGACY_CONFIGS], ids=["transformers5-layout", "transformers4-layout"])
def test_inspect_model_folder(ex2, folder):
    report = ex2.inspect_model_folder(folder)
    expect_type(report, dict, "inspect_model_folder()'s return value")
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    expect(report.get("files") == files, "'files' maps every file to its size in bytes", expected=files,
           got=report.get("files"))
    parsed = {name: json.loads((folder / name).read_text()) for name in files if name.endswith(".json")}
    expect(report.get("json") == parsed, "'json' holds every .json file, parsed", expected=sorted(parsed),
           got=sorted(report.get("json") or {}))
    summary, wanted = report.get("summary") or {}, expected_summary(folder)
    for key, value in wanted.items():
        expect(summary.get(key) == value, f"summary[{key!r}] of {folder.name}", expected=value,
               got=summary.get(key, "<missing>"))


# ---------------------------------------------------------------- ex2.3 load and describe


@pytest.mark.item("ex2.3")
@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["stored-dtype", "bfloat16"])
def test_load_model(ex2, dtype):
    loaded = ex2.load_model(TINY, dtype=dtype)
    expect(isinstance(loaded, tuple) and len(loaded) == 2, "load_model() returns (model, tokenizer)", got=loaded)
    model, tokenizer = loaded
    expect(type(model).__name__ == "Qwen2ForCausalLM", "the model class", expected="Qwen2ForCausalLM",
           got=type(model).__name__)
    expect(not model.training, "the loaded model should be in eval mode (model.eval())")
    expect(next(model.parameters()).dtype == (dtype or torch.float32), "parameter dtype",
           expected=dtype or torch.float32, got=next(model.parameters()).dtype)
    expect(tokenizer.eos_token == "<|im_end|>", "the tokenizer loads from the same folder", got=tokenizer.eos_token)


@pytest.mark.item("ex2.3")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_describe_model(ex2, dtype):
    model = AutoModelForCausalLM.from_pretrained(TINY).to(dtype).eval()
    report = ex2.describe_model(model)
    expect_type(report, dict, "describe_model()'s return value")
    wanted = [{"name": n, "shape": tuple(p.shape), "device": str(p.device), "dtype": str(p.dtype),
               "numel": p.numel()} for n, p in model.named_parameters()]
    got = report.get("parameters") or []
    expect([p.get("name") for p in got] == [w["name"] for w in wanted],
           "one entry per parameter, in named_parameters() order",
           expected=[w["name"] for w in wanted], got=[p.get("name") for p in got],
           hint="state_dict() also lists the tied lm_head.weight; named_parameters() lists it once")
    for entry, truth in zip(got, wanted):
        entry = {**entry, "shape": tuple(entry.get("shape", ()))}
        for key in ("shape", "device", "dtype", "numel"):
            expect(entry.get(key) == truth[key], f"{truth['name']}: {key}", expected=truth[key], got=entry.get(key))
    total = sum(p.numel() for p in model.parameters())
    expect(report.get("total_parameters") == total, "total_parameters (tied weights counted once)",
           expected=total, got=report.get("total_parameters"))
    expect(report.get("structure") == str(model), "'structure' is what print(model) shows")
    expect(report.get("config") == model.config.to_dict(), "'config' is model.config.to_dict()")


# ---------------------------------------------------------------- ex2.4 generate()


@pytest.mark.item("ex2.4")
@pytest.mark.parametrize("settings_", [{"do_sample": False}, {"do_sample": False, "num_beams": 3}],
                         ids=["greedy", "beams"])
def test_generate_reply_equals_generate(ex2, any_model, settings_):
    _, model, tokenizer = any_model
    for message in ("What is assert?", "Tell me about the for statement."):
        settings_all = {**settings_, "repetition_penalty": 1.0}
        reply = ex2.generate_reply(model, tokenizer, message, max_new_tokens=24, **settings_all)
        inputs = tokenizer.apply_chat_template([{"role": "user", "content": message}], add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True).to(model.device)
        with only_explicit_settings(model), torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=24, pad_token_id=tokenizer.pad_token_id,
                                    eos_token_id=[tokenizer.convert_tokens_to_ids(t)
                                                  for t in ("<|im_end|>", "<|endoftext|>")], **settings_all)
        wanted = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        expect_type(reply, str, "generate_reply()'s return value")
        expect(reply == wanted, f"reply to {message!r} with {settings_all}", expected=wanted, got=reply,
               hint="only the new tokens, decoded with skip_special_tokens=True")


# ---------------------------------------------------------------- ex2.5 beam search


def check_beam_search(ex2, model, tokenizer, texts, **settings_):
    input_ids, attention_mask = left_padded(tokenizer, texts)
    # The learner's call first: a stub fails before the oracle's cost, which matters while
    # hypothesis shrinks a failing example.
    result = ex2.beam_search(model, input_ids, attention_mask, **settings_)
    wanted_seqs, wanted_scores = oracle_beam(model, input_ids, attention_mask, **settings_)
    expect(isinstance(result, tuple) and len(result) == 2, "beam_search() returns (sequences, scores)",
           got=type(result).__name__)
    seqs, scores = result
    expect(isinstance(seqs, torch.Tensor) and seqs.shape == wanted_seqs.shape,
           f"sequences shape for {len(texts)} prompt(s), {settings_}", expected=tuple(wanted_seqs.shape),
           got=tuple(seqs.shape) if isinstance(seqs, torch.Tensor) else show(seqs))
    if not torch.equal(seqs.cpu(), wanted_seqs.cpu()):
        row = next(i for i in range(len(seqs)) if not torch.equal(seqs[i].cpu(), wanted_seqs[i].cpu()))
        fail(f"tokens differ from generate() for {texts[row]!r} with {settings_}",
             expected=tokenizer.decode(wanted_seqs[row]), got=tokenizer.decode(seqs[row]))
    diff = (torch.as_tensor(scores).float().cpu() - wanted_scores.float().cpu()).abs().max().item()
    expect(diff <= SCORE_ATOL, f"scores differ from sequences_scores with {settings_}",
           expected=f"within {SCORE_ATOL:g}", got=f"{diff:.3g} off ({show(scores.tolist())} vs "
                                                  f"{show(wanted_scores.tolist())})")


TIER_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.item("ex2.5", weight=2)
@TIER_SETTINGS
@given(prompt=st.sampled_from(PROMPTS), num_beams=st.integers(2, 4), max_new_tokens=st.integers(1, 12))
def test_beam_search_tier1_fixed_length(ex2, tiny, prompt, num_beams, max_new_tokens):
    """Tier 1: no EOS, so every hypothesis runs to max_new_tokens: the core of beam search."""
    model, tokenizer = tiny
    check_beam_search(ex2, model, tokenizer, [prompt], num_beams=num_beams, max_new_tokens=max_new_tokens,
                      eos_token_id=None, length_penalty=1.0)


@pytest.mark.item("ex2.5", weight=2)
@TIER_SETTINGS
@given(texts=st.lists(st.sampled_from(PROMPTS), min_size=1, max_size=3), chat=st.booleans(),
       num_beams=st.integers(2, 4), max_new_tokens=st.sampled_from([1, 4, 12, 24]),
       length_penalty=st.sampled_from([1.0, 0.0, 0.5, 2.0, -1.0]),
       early_stopping=st.sampled_from([False, True, "never"]), pad_token_id=st.sampled_from([None, 1997, 0]))
def test_beam_search_tier2_eos_penalty_batches(ex2, tiny, texts, chat, num_beams, max_new_tokens, length_penalty,
                                               early_stopping, pad_token_id):
    """Tier 2: both EOS ids, length penalty, early stopping, left-padded batches, chat prompts."""
    model, tokenizer = tiny
    if chat:
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True,
                                               tokenize=False) for t in texts]
    check_beam_search(ex2, model, tokenizer, texts, num_beams=num_beams, max_new_tokens=max_new_tokens,
                      eos_token_id=EOS_IDS, pad_token_id=pad_token_id, length_penalty=length_penalty,
                      early_stopping=early_stopping)


@pytest.mark.item("ex2.5")
def test_beam_search_on_the_real_model(ex2, any_model):
    folder, model, tokenizer = any_model
    if folder == TINY:
        pytest.skip("runs on the real model only (the tiny model is covered by the tiers above)")
    for prompt in ("The capital of France is", "Beam search is"):
        check_beam_search(ex2, model, tokenizer, [prompt], num_beams=3, max_new_tokens=8, eos_token_id=None)


class ForwardLog:
    """Shapes of every call of model.model, and whether a cache came with it."""

    def __init__(self, module):
        self.calls: list[tuple[tuple[int, ...], bool]] = []
        self.handle = module.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        self.calls.append((tuple(ids.shape) if ids is not None else (), cache is not None))


@pytest.mark.item("ex2.5")
def test_beam_search_uses_the_kv_cache(ex2, tiny):
    model, tokenizer = tiny
    input_ids, attention_mask = left_padded(tokenizer, ["The for statement", "Exceptions are"])
    log = ForwardLog(model.model)
    try:
        ex2.beam_search(model, input_ids, attention_mask, num_beams=3, max_new_tokens=6, eos_token_id=None)
    finally:
        log.handle.remove()
    expect(len(log.calls) >= 2, "beam_search() should call model.model once per step", got=f"{len(log.calls)} calls")
    (prefill_shape, _), steps = log.calls[0], log.calls[1:]
    expect(prefill_shape[-1] == input_ids.shape[1] and prefill_shape[0] in (2, 6),
           "the first call encodes the prompt (once, or once per beam)", expected=f"(2 or 6, {input_ids.shape[1]})",
           got=prefill_shape)
    for shape, with_cache in steps:
        expect(shape == (6, 1), "after the prefill, each call takes one new token per live beam",
               expected="(batch * num_beams, 1) = (6, 1)", got=shape,
               hint="pass the cache and only the last chosen token; do not re-encode the sequence")
        expect(with_cache, "every call after the prefill passes the cache (cache= or past_key_values=)")
    expect(len(steps) == 5, "one call per new token after the first", expected=5, got=len(steps))


def timed(function, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


@pytest.mark.item("ex2.5")
def test_beam_search_speed_against_generate(ex2, tiny, benchmark, record_property):
    """Shown to the learner: time per prompt of beam_search() vs generate(num_beams=4) at 64 tokens."""
    model, tokenizer = tiny
    input_ids, attention_mask = left_padded(tokenizer, [SPEED_PROMPT])
    settings_ = {"num_beams": 4, "max_new_tokens": 64, "eos_token_id": None}

    def theirs():
        oracle_beam(model, input_ids, attention_mask, **settings_)

    theirs()
    generate_times = timed(theirs, rounds=3)
    benchmark.group = "ex2.5 beam search, 64 new tokens"
    benchmark.pedantic(ex2.beam_search, args=(model, input_ids, attention_mask), kwargs=settings_,
                       rounds=3, iterations=1, warmup_rounds=1)
    # pytest-benchmark turns itself off under xdist or --benchmark-disable (stats is None then).
    learner_times = benchmark.stats.stats.data if benchmark.stats else \
        timed(lambda: ex2.beam_search(model, input_ids, attention_mask, **settings_), rounds=3)
    # Fastest rounds: on a shared machine other work only ever adds time.
    ratio = min(learner_times) / min(generate_times)
    benchmark.extra_info["ratio_vs_generate"] = round(ratio, 2)
    record_property("beam_search_vs_generate", f"{ratio:.2f}x")
    expect(ratio <= SPEED_RATIO_LIMIT, "beam_search() is far slower than generate(num_beams=4)",
           expected=f"at most {SPEED_RATIO_LIMIT:g}x generate's time", got=f"{ratio:.1f}x",
           hint="that much slower means the KV cache is not used")


# ---------------------------------------------------------------- ex2.6 perplexity


def independent_perplexity(model, prompt_ids, continuation_ids) -> float:
    ids = torch.cat([prompt_ids, continuation_ids])[None]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")[-len(continuation_ids):]
    return float(nll.double().mean().exp())


@pytest.mark.item("ex2.6")
@pytest.mark.parametrize("prompt,continuation", [("The for statement", " is used to iterate over the elements"),
                                                 ("x", " = 1"), ("Exceptions are", " raised by the raise statement.")])
def test_perplexity_matches_the_logits(ex2, any_model, prompt, continuation):
    _, model, tokenizer = any_model
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"][0].to(model.device)
    continuation_ids = tokenizer(continuation, return_tensors="pt")["input_ids"][0].to(model.device)
    got = ex2.perplexity(model, prompt_ids, continuation_ids)
    wanted = independent_perplexity(model, prompt_ids, continuation_ids)
    expect(isinstance(got, float), "perplexity() returns a Python float", got=type(got).__name__)
    expect(abs(got - wanted) <= 1e-5 * wanted, f"perplexity of {continuation!r} after {prompt!r}",
           expected=f"{wanted:.6g}", got=f"{got:.6g}",
           hint="average the NLL over the continuation tokens only, in float32")
    expect(1.0 <= got <= model.config.vocab_size, "1 <= perplexity <= vocabulary size", got=got)


@pytest.mark.item("ex2.6")
@pytest.mark.parametrize("prompt", PROMPTS[:4])
def test_beam_score_is_minus_log_perplexity(ex2, tiny, prompt):
    """With length_penalty 1 and no EOS, generate's sequences_score is the mean log-prob: exp(-score) = PPL."""
    model, tokenizer = tiny
    input_ids, attention_mask = left_padded(tokenizer, [prompt])
    sequences, scores = oracle_beam(model, input_ids, attention_mask, num_beams=4, max_new_tokens=12,
                                    length_penalty=1.0, eos_token_id=None)
    got = ex2.perplexity(model, input_ids[0], sequences[0, input_ids.shape[1]:])
    wanted = float(torch.exp(-scores[0]))
    expect(abs(got - wanted) <= 1e-4 * wanted, "perplexity of the beam output vs exp(-sequences_scores)",
           expected=f"{wanted:.6g}", got=f"{got:.6g}")


@pytest.mark.item("ex2.6")
def test_compare_greedy_and_beam(ex2, tiny, record_property):
    model, tokenizer = tiny
    beam_wins = 0
    for prompt in PROMPTS:
        result = ex2.compare_greedy_and_beam(model, tokenizer, prompt, num_beams=4, max_new_tokens=24)
        expect_type(result, dict, "compare_greedy_and_beam()'s return value")
        prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        for name, beams in (("greedy", 1), ("beam", 4)):
            with only_explicit_settings(model), torch.no_grad():
                out = model.generate(input_ids=prompt_ids, attention_mask=torch.ones_like(prompt_ids),
                                     do_sample=False, num_beams=beams, max_new_tokens=24, eos_token_id=EOS_IDS,
                                     pad_token_id=tokenizer.pad_token_id)
            continuation = out[0, prompt_ids.shape[1]:]
            text = tokenizer.decode(continuation, skip_special_tokens=True)
            expect(result.get(f"{name}_text") == text, f"{name}_text for {prompt!r}", expected=text,
                   got=result.get(f"{name}_text"))
            ppl = independent_perplexity(model, prompt_ids[0], continuation)
            expect(abs(result.get(f"{name}_ppl", 0) - ppl) <= 1e-4 * ppl, f"{name}_ppl for {prompt!r}",
                   expected=f"{ppl:.5g}", got=result.get(f"{name}_ppl"))
        beam_wins += result["beam_ppl"] <= result["greedy_ppl"] * (1 + 1e-6)
    # A fact about this model, shown rather than gated (the values above are already exact):
    # beam <= greedy perplexity on 7 of these 8 prompts ("x" is the exception), measured here.
    record_property("beam_ppl_le_greedy_ppl", f"{beam_wins}/{len(PROMPTS)} prompts")
