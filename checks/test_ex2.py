"""Checks for exercise 2: a Qwen2 model folder, generate(), beam search by hand, perplexity.

Oracles are independent of the reference solution: the real files and named_parameters()
for the reports, the installed transformers' `generate()` for generation and beam search,
and a log-softmax over the model's logits for perplexity. The model is the tiny Qwen2 of
fixtures/ex2 (built by fixtures/ex2/build_model.py); set DLGRADE_QWEN2_PATH to a
Qwen2-1.5B-Instruct folder to run the marked checks on the real model too.
"""
from __future__ import annotations

import functools
import json
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from dlgrade import fakehub
from dlgrade.external import real_folder
from dlgrade.feedback import expect, expect_equal, expect_type, fail, prose, type_name
from dlgrade.i18n import tr
from dlgrade.paths import FIXTURES_DIR

FILE = "ex2_llm.py"
TINY = FIXTURES_DIR / "ex2" / "tiny-qwen2"
LEGACY_CONFIGS = FIXTURES_DIR / "ex2" / "qwen2-1.5b-instruct-configs"
REAL_ENV = "DLGRADE_QWEN2_PATH"
EOS_IDS = [1999, 1997]  # <|im_end|>, <|endoftext|> of the tiny model, as in Qwen2-Instruct
PROMPTS = ["The for statement", "Exceptions are", "A class definition", "The import system", "x",
           "Names refer to objects.", "What is assert?", "In a generator function, the"]
# Beam scores are compared relatively: |got - expected| / max(|expected|, 1) <= SCORE_RTOL
# (absolutely below 1). Measured by fixtures/ex2/search_beam_cases.py on 200 random tier-2 cases
# (seed 1): correct searches that differ from generate() only by float32 rounding (prefill once
# per row, model(...).logits, row by row) reached 2.3e-6 relative while every token matched
# (absolute up to 1.2e-4, above 1e-5 in 18 of 200 cases row by row); a log-softmax in half
# precision is off by 4.9e-4 or more.
SCORE_RTOL = 2e-5
# A prompt of about 420 tokens (with 64 new ones, within the 512 positions): long enough
# that re-encoding it at every step shows in the time.
SPEED_PROMPT = " ".join(PROMPTS * 12)
# Measured on the tiny model with SPEED_PROMPT, 4 beams, 64 new tokens, one thread, on the
# 2-core dev machine: the reference beam search took 0.87-0.92x the time of generate() (median
# rounds, 5 runs); without the KV cache 7.1-9.1x (4.2-5.0x with a 210-token prompt, too close
# to the gate). Ratio of fastest rounds, 3 runs each: idle 0.89-0.93x vs 8.2-8.6x; with the
# other core busy and pytest-benchmark off 0.89-0.94x vs 7.6-8.0x. More than 5x means the
# cache is not used. The gate is for learners only: the project's own tests catch a missing
# cache by counting the tokens each forward call receives (test_beam_search_uses_the_kv_cache),
# never by time.
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
    expect(Path(folder).resolve() == (tmp_path / "qwen2").resolve(), tr("download_model() returns local_dir"),
           expected=str(tmp_path / "qwen2"), got=str(folder))
    expect(not fetched - needed, tr("downloaded files the model does not need"), got=sorted(fetched - needed),
           hint=tr("pass allow_patterns (or ignore_patterns) to snapshot_download"))
    missing = {name for name in needed if not (tmp_path / "qwen2" / name).is_file()}
    expect(not missing, tr("files missing from local_dir"), got=sorted(missing))
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "qwen2")
    expect(model.config.model_type == "qwen2", tr("the downloaded folder loads as a Qwen2 model"))


# ---------------------------------------------------------------- ex2.2 inspect the folder


def folder_variant(root: Path, name: str, *, generation: dict | None) -> Path:
    """The tiny model's configs and tokenizer files (no weights: inspecting needs none), with
    generation_config.json replaced (or left out when `generation` is None)."""
    folder = root / name
    folder.mkdir()
    for path in TINY.iterdir():
        if path.suffix in (".json", ".jinja") and path.name != "generation_config.json":
            shutil.copy(path, folder)
    if generation is not None:
        (folder / "generation_config.json").write_text(json.dumps(generation, indent=2))
    return folder


@pytest.fixture(scope="session")
def inspected_folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ex2-folders")
    generation = json.loads((TINY / "generation_config.json").read_text())
    with_cache = folder_variant(root, "with-hidden-cache", generation=generation)
    # What snapshot_download(local_dir=...) leaves next to the files it fetched.
    download = with_cache / ".cache" / "huggingface" / "download"
    download.mkdir(parents=True)
    (with_cache / ".cache" / "huggingface" / ".gitignore").write_text("*\n")
    for name in ("config.json", "generation_config.json", "tokenizer.json"):
        (download / f"{name}.metadata").write_text("0123456789abcdef\n1700000000.0\n")
        (download / f"{name}.lock").write_text("")
    return {
        "transformers5-layout": TINY, "transformers4-layout": LEGACY_CONFIGS,
        "single-eos-id": folder_variant(root, "single-eos-id", generation={**generation, "eos_token_id": 1999}),
        "no-generation-config": folder_variant(root, "no-generation-config", generation=None),
        "with-hidden-cache": with_cache,
    }


def expected_summary(folder: Path) -> dict:
    config = json.loads((folder / "config.json").read_text())
    generation_file = folder / "generation_config.json"
    generation = json.loads(generation_file.read_text()) if generation_file.exists() else {}
    eos = generation.get("eos_token_id", config.get("eos_token_id"))
    return {
        "architecture": config["architectures"][0], "hidden_size": config["hidden_size"],
        "num_hidden_layers": config["num_hidden_layers"], "num_attention_heads": config["num_attention_heads"],
        "num_key_value_heads": config["num_key_value_heads"], "vocab_size": config["vocab_size"],
        "max_position_embeddings": config["max_position_embeddings"],
        "rope_theta": float(config.get("rope_theta") or config["rope_parameters"]["rope_theta"]),
        "dtype": config.get("dtype") or config.get("torch_dtype"),
        "bos_token_id": generation.get("bos_token_id", config.get("bos_token_id")),
        "eos_token_ids": [] if eos is None else eos if isinstance(eos, list) else [eos],
        "pad_token_id": generation.get("pad_token_id", config.get("pad_token_id")),
        "generation_defaults": {k: generation[k] for k in ("do_sample", "temperature", "top_p", "top_k",
                                                           "repetition_penalty") if k in generation},
    }


@pytest.mark.item("ex2.2")
@pytest.mark.parametrize("layout", ["transformers5-layout", "transformers4-layout", "single-eos-id",
                                    "no-generation-config", "with-hidden-cache"])
def test_inspect_model_folder(ex2, inspected_folders, layout):
    folder = inspected_folders[layout]
    report = ex2.inspect_model_folder(folder)
    expect_type(report, dict, tr("inspect_model_folder()'s return value"))
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1])}
    expect_equal(report.get("files"), files,
                 tr("'files' of the {layout} folder: every file and its size in bytes, none under hidden folders",
                    layout=layout), hint=tr("snapshot_download keeps its own bookkeeping under .cache/; leave it out"))
    parsed = {name: json.loads((folder / name).read_text()) for name in files if name.endswith(".json")}
    expect(report.get("json") == parsed, tr("'json' holds every .json file, parsed"), expected=sorted(parsed),
           got=sorted(report.get("json") or {}))
    summary, wanted = report.get("summary") or {}, expected_summary(folder)
    for key, value in wanted.items():
        expect_equal(summary.get(key, prose("<missing>")), value,
                     tr("summary[{key}] of the {layout} folder", key=repr(key), layout=layout))


# ---------------------------------------------------------------- ex2.3 load and describe


@pytest.fixture(scope="session")
def bfloat16_folder(tmp_path_factory) -> Path:
    """A copy of the tiny model stored in bfloat16 (config.json says "dtype": "bfloat16")."""
    folder = tmp_path_factory.mktemp("ex2-bfloat16") / "tiny-qwen2-bf16"
    AutoModelForCausalLM.from_pretrained(TINY).to(torch.bfloat16).save_pretrained(folder)
    for path in TINY.iterdir():
        if path.name.startswith("tokenizer") or path.suffix == ".jinja":
            shutil.copy(path, folder)
    return folder


@pytest.mark.item("ex2.3")
@pytest.mark.parametrize("stored,dtype", [("float32", None), ("bfloat16", None), ("float32", torch.bfloat16),
                                          ("bfloat16", torch.float32)],
                         ids=["float32-folder-stored-dtype", "bfloat16-folder-stored-dtype", "to-bfloat16",
                              "to-float32"])
def test_load_model(ex2, bfloat16_folder, stored, dtype):
    folder = TINY if stored == "float32" else bfloat16_folder
    loaded = ex2.load_model(folder, dtype=dtype)
    expect(isinstance(loaded, tuple) and len(loaded) == 2, tr("load_model() returns (model, tokenizer)"),
           got=prose(type_name(loaded)))
    model, tokenizer = loaded
    expect_equal(type(model).__name__, "Qwen2ForCausalLM", tr("the model class"))
    wanted = dtype or getattr(torch, stored)
    expect_equal(next(model.parameters()).dtype, wanted,
                 tr("parameter dtype of the {stored} folder loaded with dtype={dtype}", stored=stored,
                    dtype=repr(dtype)),
                 hint=tr("dtype=None keeps what config.json stores: from_pretrained(..., dtype=\"auto\")"))
    expect_equal(tokenizer.eos_token, "<|im_end|>", tr("the tokenizer loads from the same folder"))


@pytest.mark.item("ex2.3")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_describe_model(ex2, dtype):
    model = AutoModelForCausalLM.from_pretrained(TINY).to(dtype).eval()
    report = ex2.describe_model(model)
    expect_type(report, dict, tr("describe_model()'s return value"))
    wanted = [{"name": n, "shape": tuple(p.shape), "device": str(p.device), "dtype": str(p.dtype),
               "numel": p.numel()} for n, p in model.named_parameters()]
    got = report.get("parameters") or []
    expect_equal([p.get("name") for p in got], [w["name"] for w in wanted],
                 tr("one entry per parameter, in named_parameters() order"),
                 hint=tr("state_dict() also lists the tied lm_head.weight; named_parameters() lists it once"))
    for entry, truth in zip(got, wanted):
        entry = {**entry, "shape": tuple(entry.get("shape", ()))}
        for key in ("shape", "device", "dtype", "numel"):
            expect_equal(entry.get(key), truth[key], tr("{name}: {key}", name=truth["name"], key=key))
    total = sum(p.numel() for p in model.parameters())
    expect_equal(report.get("total_parameters"), total, tr("total_parameters (tied weights counted once)"))
    expect(report.get("structure") == str(model), tr("'structure' is what print(model) shows"))
    expect(report.get("config") == model.config.to_dict(), tr("'config' is model.config.to_dict()"))


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
        expect_type(reply, str, tr("generate_reply()'s return value"))
        expect_equal(reply, wanted, tr("reply to {message} with {settings}", message=repr(message),
                                       settings=settings_all),
                     hint=tr("only the new tokens, decoded with skip_special_tokens=True"))


# ---------------------------------------------------------------- ex2.5 beam search


def score_error(scores: torch.Tensor, wanted: torch.Tensor) -> float:
    """max |score - wanted| / max(|wanted|, 1): relative, and absolute for scores below 1 in size."""
    return ((scores - wanted).abs() / wanted.abs().clamp(min=1.0)).max().item()


def compare_beam_search(ex2, model, tokenizer, texts, **settings_) -> tuple[float, dict]:
    """Fail on any difference from generate() in the tokens; return the scores' relative error."""
    input_ids, attention_mask = left_padded(tokenizer, texts)
    # The learner's call first: a stub fails before the oracle's cost, which matters while
    # hypothesis shrinks a failing example.
    result = ex2.beam_search(model, input_ids, attention_mask, **settings_)
    wanted_seqs, wanted_scores = oracle_beam(model, input_ids, attention_mask, **settings_)
    expect(isinstance(result, tuple) and len(result) == 2, tr("beam_search() returns (sequences, scores)"),
           got=prose(type_name(result)))
    seqs, scores = result
    expect(isinstance(seqs, torch.Tensor) and seqs.dim() == 2 and len(seqs) == len(wanted_seqs),
           tr("sequences shape for {count} prompt(s), {settings}", count=len(texts), settings=settings_),
           expected=tuple(wanted_seqs.shape), got=tuple(seqs.shape) if isinstance(seqs, torch.Tensor) else seqs)
    if seqs.shape != wanted_seqs.shape or not torch.equal(seqs.cpu(), wanted_seqs.cpu()):
        # A length that differs is a token that differs: show the texts, not only the shapes.
        row = next(i for i in range(len(seqs)) if seqs.shape != wanted_seqs.shape
                   or not torch.equal(seqs[i].cpu(), wanted_seqs[i].cpu()))
        fail(tr("tokens differ from generate() for {prompt} with {settings}", prompt=repr(texts[row]),
                settings=settings_),
             expected=tokenizer.decode(wanted_seqs[row]), got=tokenizer.decode(seqs[row]))
    scores = torch.as_tensor(scores).detach().float().cpu()
    wanted_scores = wanted_scores.float().cpu()
    expect_equal(tuple(scores.shape), tuple(wanted_scores.shape), tr("shape of the scores (one per row)"))
    error = score_error(scores, wanted_scores)
    return error, {"settings": settings_, "got": scores.tolist(), "expected": wanted_scores.tolist()}


class WorstScore:
    """The largest score error of a search, reported when the search is over.

    Hypothesis shrinks every failure it finds towards the simplest example; were a score
    difference a failure inside the search, a wrong token found first could shrink into a
    score-only difference (one new token, say) and hide what really went wrong. So inside the
    search only tokens fail; scores are judged afterwards, on the worst example.
    """

    def __init__(self) -> None:
        self.error, self.detail = 0.0, None

    def add(self, error: float, detail: dict) -> None:
        if not error <= self.error:  # NaN counts as the worst
            self.error, self.detail = error, detail

    def check(self) -> None:
        if not self.error <= SCORE_RTOL:
            fail(tr("scores differ from generate()'s sequences_scores by {error:.2g} (relative; allowed "
                    "{allowed:g}) with {settings}", error=self.error, allowed=SCORE_RTOL,
                    settings=self.detail["settings"]),
                 expected=self.detail["expected"], got=self.detail["got"],
                 hint=tr("each score is the sum of the token log-probs (float32) divided by "
                         "generated_length ** length_penalty, the EOS token counted"))


def check_beam_search(ex2, model, tokenizer, texts, **settings_) -> None:
    worst = WorstScore()
    worst.add(*compare_beam_search(ex2, model, tokenizer, texts, **settings_))
    worst.check()


# Shrinking a failure re-runs the search hundreds of times; on a loaded machine that outgrew the
# 60 s limit of the check (the learner then read "ran past its time limit", not the difference).
# After this long, only examples already seen failing run: the shrinker keeps the smallest so far.
SHRINK_BUDGET_S = 20


def shrinking_within(seconds: float):
    """For a function under @given: once it has failed, stop trying new examples after `seconds`."""
    def wrap(search):
        failing: set[str] = set()
        first_failure: list[float] = []

        @functools.wraps(search)
        def run(**kwargs):
            key = repr(sorted(kwargs.items()))
            if first_failure and key not in failing and time.monotonic() - first_failure[0] > seconds:
                reject()
            try:
                search(**kwargs)
            except Exception:
                failing.add(key)
                first_failure[:] = first_failure or [time.monotonic()]
                raise
        return run
    return wrap


TIER1_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
TIER2_SETTINGS = settings(TIER1_SETTINGS, max_examples=60)
# The two tiers on the reference took 6-7 s of CPU together (measured here), but 85 s of wall
# time with the machine's load average at 20 on 2 cores: their limit leaves room for that.
TIER_TIME_LIMIT = 180


@pytest.mark.item("ex2.5", weight=2)
@pytest.mark.time_limit(TIER_TIME_LIMIT)
def test_beam_search_tier1_fixed_length(ex2, tiny):
    """Tier 1: no EOS, so every hypothesis runs to max_new_tokens: the core of beam search."""
    model, tokenizer = tiny
    worst = WorstScore()

    @TIER1_SETTINGS
    @given(prompt=st.sampled_from(PROMPTS), num_beams=st.integers(2, 4), max_new_tokens=st.integers(1, 12))
    @shrinking_within(SHRINK_BUDGET_S)
    def search(prompt, num_beams, max_new_tokens):
        worst.add(*compare_beam_search(ex2, model, tokenizer, [prompt], num_beams=num_beams,
                                       max_new_tokens=max_new_tokens, eos_token_id=None, length_penalty=1.0))

    search()
    worst.check()


def case(texts, chat, num_beams, max_new_tokens, length_penalty, early_stopping, pad_token_id, eos_token_id):
    """A tier-2 example in the strategy's terms (a row count and three prompts)."""
    return example(rows=len(texts), texts=tuple(texts) + (PROMPTS[0],) * (3 - len(texts)), chat=chat,
                   num_beams=num_beams, max_new_tokens=max_new_tokens, length_penalty=length_penalty,
                   early_stopping=early_stopping, pad_token_id=pad_token_id, eos_token_id=eos_token_id)


# Cases that tell the rules of generate() apart, each found by searching random tier-2 inputs
# for a difference between generate() and the rule's mutant in tests/mutants
# (fixtures/ex2/search_beam_cases.py). Of 200 random inputs (seed 1, half of them chat prompts)
# a broken rule changed the result of 0-2, except finishing at any rank (15): the heuristic
# mutants, the unbounded pool and K = 2 * num_beams changed none. Searches limited to where a
# rule acts found them: t + 1 and the pool in 18 and 17 of 318 inputs (length_penalty 0.5-2,
# early_stopping=False), K in 3 of 508 (two EOS ids), no heuristic or the prompt in the length in
# 1 of 182 (80 % chat prompts). Hypothesis runs these first.
PINNED = [
    # the early-stopping heuristic: missing, or with the prompt in the length
    case(["The for statement"], True, 2, 19, 2.0, False, None, EOS_IDS),
    # the heuristic with t + 1; the finished pool truncated to num_beams
    case(["In a generator function, the"], False, 2, 15, 2.0, False, 0, [1997]),
    # K = (1 + number of EOS ids) * num_beams
    case(["What is assert?"], True, 4, 15, 2.0, "never", 1997, EOS_IDS),
    # early_stopping=True: a row whose finished set is full stops
    case(["What is assert?"], True, 3, 20, 1.0, True, 0, EOS_IDS),
    # early_stopping=True: a full finished set accepts no more while another row runs on
    case(["The for statement", "The import system"], False, 4, 10, 2.0, True, None, EOS_IDS),
    # only hits ranked in the first num_beams finish; a single EOS id given as an int
    case(["Names refer to objects."], False, 3, 14, -1.0, "never", 1997, 1999),
    # scores up to -661: searched row by row (correct), one is 3.1e-5 off by float32 rounding
    case(["x", "The import system", "Exceptions are"], False, 4, 24, -1.0, False, None, [1997]),
]


def pinned(cases):
    def wrap(test):
        for pin in reversed(cases):
            test = pin(test)
        return test
    return wrap


@pytest.mark.item("ex2.5", weight=2)
@pytest.mark.time_limit(TIER_TIME_LIMIT)
def test_beam_search_tier2_eos_penalty_batches(ex2, tiny):
    """Tier 2: EOS ids (a list or one int), length penalty, early stopping, left-padded batches, chat prompts."""
    model, tokenizer = tiny
    worst = WorstScore()

    @TIER2_SETTINGS
    @pinned(PINNED)
    # A row count and a fixed-size tuple rather than st.lists: with lists, hypothesis 6.170
    # (derandomized) threw away ~40 % of the cases it drew as invalid; with this, none.
    @given(rows=st.integers(1, 3), texts=st.tuples(*[st.sampled_from(PROMPTS)] * 3), chat=st.booleans(),
           num_beams=st.integers(2, 4), max_new_tokens=st.integers(1, 24),
           length_penalty=st.sampled_from([1.0, 0.0, 0.5, 2.0, -1.0]),
           early_stopping=st.sampled_from([False, True, "never"]), pad_token_id=st.sampled_from([None, 1997, 0]),
           eos_token_id=st.sampled_from([EOS_IDS, 1999, [1997]]))
    @shrinking_within(SHRINK_BUDGET_S)
    def search(rows, texts, chat, num_beams, max_new_tokens, length_penalty, early_stopping, pad_token_id,
               eos_token_id):
        texts = list(texts[:rows])
        if chat:
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True,
                                                   tokenize=False) for t in texts]
        worst.add(*compare_beam_search(ex2, model, tokenizer, texts, num_beams=num_beams,
                                       max_new_tokens=max_new_tokens, eos_token_id=eos_token_id,
                                       pad_token_id=pad_token_id, length_penalty=length_penalty,
                                       early_stopping=early_stopping))

    search()
    worst.check()


@pytest.mark.item("ex2.5")
def test_beam_search_on_the_real_model(ex2, any_model):
    folder, model, tokenizer = any_model
    if folder == TINY:
        pytest.skip(tr("runs on the real model only (the tiny model is covered by the tiers above)"))
    for prompt in ("The capital of France is", "Beam search is"):
        check_beam_search(ex2, model, tokenizer, [prompt], num_beams=3, max_new_tokens=8, eos_token_id=None)


class ForwardLog:
    """What every call of model.model receives: how many sequences, how many tokens each, how
    many tokens its cache already holds, and the position of every token that is not padding."""

    def __init__(self, module):
        self.calls: list[dict] = []
        self.handle = module.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            ids = kwargs["inputs_embeds"][..., 0]
        rows, length = ids.shape
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        cached = cache.get_seq_length() if cache is not None else 0
        positions = kwargs.get("position_ids")
        if positions is None:  # what the model then uses itself
            positions = torch.arange(cached, cached + length)[None]
        mask = kwargs.get("attention_mask")
        if not isinstance(mask, torch.Tensor) or mask.shape != (rows, cached + length):
            mask = torch.ones(rows, cached + length, dtype=torch.long)
        real = mask[:, -length:].bool()
        wanted = mask.long().cumsum(-1)[:, -length:] - 1
        self.calls.append({"rows": rows, "length": length, "cached": cached,
                           "positions": positions.expand(rows, length)[real].tolist(),
                           "wanted_positions": wanted[real].tolist()})


@pytest.mark.item("ex2.5")
def test_beam_search_uses_the_kv_cache(ex2, tiny):
    """Counts the tokens fed to the model: the prompt once (per row or per beam), then one token per beam."""
    model, tokenizer = tiny
    texts, beams, new_tokens = ["x", "The for statement", "Names refer to objects."], 3, 6
    input_ids, attention_mask = left_padded(tokenizer, texts)
    batch, prompt_len = input_ids.shape
    log = ForwardLog(model.model)
    try:
        ex2.beam_search(model, input_ids, attention_mask, num_beams=beams, max_new_tokens=new_tokens,
                        eos_token_id=None)
    finally:
        log.handle.remove()
    prefills = [call for call in log.calls if call["cached"] == 0]
    steps = [call for call in log.calls if call["cached"] > 0]
    expect(prefills and steps, tr("beam_search() should call model.model: the prompt first, then one call per "
                                  "new token with the cache"), got=prose(tr("{count} calls", count=len(log.calls))))
    hint = tr("prefill the prompt once, then pass the cache and only the newest token of each beam")
    for call in prefills:
        expect(call["length"] <= prompt_len, tr("a call without a cached prefix encodes more than the prompt"),
               expected=prose(tr("at most {count} tokens per sequence", count=prompt_len)),
               got=prose(f"({call['rows']}, {call['length']})"), hint=hint)
    encoded = sum(call["rows"] for call in prefills)
    expect(encoded <= batch * beams, tr("the prompts are encoded more than once per beam"),
           expected=prose(tr("at most {batch} x {beams} = {total} sequences in calls without a cache",
                             batch=batch, beams=beams, total=batch * beams)),
           got=prose(tr("{count} in {calls} calls", count=encoded, calls=len(prefills))), hint=hint)
    for call in steps:
        expect(call["length"] == 1, tr("after the prefill, each call takes one new token per live beam"),
               expected=prose(tr("(sequences, 1)")), got=prose(f"({call['rows']}, {call['length']})"), hint=hint)
    fed = sum(call["rows"] for call in steps)
    expect(fed <= batch * beams * (new_tokens - 1), tr("tokens fed after the prefill"),
           expected=prose(tr("at most {batch} x {beams} x ({new_tokens} - 1) = {total}", batch=batch, beams=beams,
                             new_tokens=new_tokens, total=batch * beams * (new_tokens - 1))),
           got=fed, hint=hint)
    for call in log.calls:
        expect_equal(call["positions"], call["wanted_positions"],
                     tr("position ids the model receives for the tokens that are not padding"),
                     hint=tr("position ids come from the cumulative attention mask (cumsum - 1): a left-padded "
                             "row starts at 0 after its padding"))


def timed(function, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


@pytest.mark.item("ex2.5")
def test_beam_search_speed_against_generate(ex2, tiny, benchmark, request):
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
    # user_properties, not the record_property fixture: that one warns under junit_family xunit2.
    request.node.user_properties.append(("beam_search_vs_generate", f"{ratio:.2f}x"))
    expect(ratio <= SPEED_RATIO_LIMIT, tr("beam_search() is far slower than generate(num_beams=4)"),
           expected=prose(tr("at most {limit:g}x generate's time", limit=SPEED_RATIO_LIMIT)),
           got=prose(f"{ratio:.1f}x"), hint=tr("that much slower means the KV cache is not used"))


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
    expect_type(got, float, tr("perplexity()'s return value"))
    expect(abs(got - wanted) <= 1e-5 * wanted, tr("perplexity of {continuation} after {prompt}",
                                                  continuation=repr(continuation), prompt=repr(prompt)),
           expected=wanted, got=got, hint=tr("average the NLL over the continuation tokens only, in float32"))
    expect(1.0 <= got <= model.config.vocab_size, tr("1 <= perplexity <= vocabulary size"), got=got)


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
    expect(abs(got - wanted) <= 1e-4 * wanted, tr("perplexity of the beam output vs exp(-sequences_scores)"),
           expected=wanted, got=got)


# (num_beams, max_new_tokens) per prompt, the defaults (4, 24) elsewhere. Measured here: with
# these, the beam text differs from 4 beams' and the texts from 24 tokens' (ignoring either
# argument shows).
COMPARE_SETTINGS = {"The for statement": (3, 10), "Exceptions are": (2, 16), "x": (5, 7),
                    "In a generator function, the": (2, 24)}


@pytest.mark.item("ex2.6")
def test_compare_greedy_and_beam(ex2, tiny, request):
    model, tokenizer = tiny
    beam_wins = 0
    for prompt in PROMPTS:
        num_beams, max_new_tokens = COMPARE_SETTINGS.get(prompt, (4, 24))
        result = ex2.compare_greedy_and_beam(model, tokenizer, prompt, num_beams=num_beams,
                                             max_new_tokens=max_new_tokens)
        expect_type(result, dict, tr("compare_greedy_and_beam()'s return value"))
        prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        for name, beams in (("greedy", 1), ("beam", num_beams)):
            with only_explicit_settings(model), torch.no_grad():
                out = model.generate(input_ids=prompt_ids, attention_mask=torch.ones_like(prompt_ids),
                                     do_sample=False, num_beams=beams, max_new_tokens=max_new_tokens,
                                     eos_token_id=EOS_IDS, pad_token_id=tokenizer.pad_token_id)
            continuation = out[0, prompt_ids.shape[1]:]
            text = tokenizer.decode(continuation, skip_special_tokens=True)
            where = tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                       key=f"{name}_text", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens)
            expect_equal(result.get(f"{name}_text"), text, where)
            ppl = independent_perplexity(model, prompt_ids[0], continuation)
            got = result.get(f"{name}_ppl")
            expect(isinstance(got, (int, float)) and abs(got - ppl) <= 1e-4 * ppl,
                   tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                      key=f"{name}_ppl", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens),
                   expected=ppl, got=got)
        beam_wins += result["beam_ppl"] <= result["greedy_ppl"] * (1 + 1e-6)
    # A fact about this model, shown rather than gated (the values above are already exact).
    request.node.user_properties.append(("beam_ppl_le_greedy_ppl", f"{beam_wins}/{len(PROMPTS)} prompts"))
