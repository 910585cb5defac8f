"""Checks for exercise 2: a Qwen2 model folder, generate(), beam search by hand, perplexity.

Oracles are independent of the exercise's answers: the results stored for the shipped tiny Qwen2
(fixtures/ex2/expected_results.json, computed by a maintainer script with the library's own
calls), the installed transformers' `generate()` for beam search, and closed forms. The model
is the tiny Qwen2 of fixtures/ex2 (built by fixtures/ex2/build_model.py); set DLGRADE_QWEN2_PATH
to a Qwen2-1.5B-Instruct folder to run the beam search check on the real model too. The beam
search machinery lives beside this file, in ex2_beam_cases.py. Every check runs offline
(fakehub.offline, here and in the learner process): a call to the real Hub fails at once with a message.

The learner's functions run in the learner process (dlgrade/boundary): the models and tokenizers they
are given are built there from the fixture folders, fresh for each check (`learner_lm`); what they
return comes back as data (token ids, scores, perplexities, texts, reports) and is judged here
against stored results or against generate() and the logits of the checks' own tiny model, which
learner code never holds. What the learner process reports about its own objects (a model's class,
a tokenizer's EOS token, the arguments of generate() and of every forward call) is an observation a
targeted forgery could fake; each check says where it relies on one.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePath

import pytest
import torch
from ex2_beam_cases import (
    EOS_IDS,
    PINNED,
    PROMPTS,
    SHRINK_BUDGET_S,
    TIER1_SETTINGS,
    TIER2_SETTINGS,
    WorstScore,
    check_beam_search,
    compare_beam_search,
    judge_forward_calls,
    left_padded,
    oracle_beam,
    pinned,
    shrinking_within,
)
from hypothesis import given
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM, AutoTokenizer

from dlgrade.boundary.proxy import Handle, LearnerModule
from dlgrade.checkkit import fakehub
from dlgrade.checkkit.feedback import expect, expect_equal, expect_type, fail, prose, type_name
from dlgrade.checkkit.real_models import real_folder
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures

FILE = "ex2_llm.py"
TINY = FIXTURES_DIR / "ex2" / "tiny-qwen2"
LEGACY_CONFIGS = FIXTURES_DIR / "ex2" / "qwen2-1.5b-instruct-configs"
EXPECTED_RESULTS = FIXTURES_DIR / "ex2" / "expected_results.json"
REAL_ENV = "DLGRADE_QWEN2_PATH"
REPO_ID = "Qwen/Qwen2-1.5B-Instruct"
# A prompt of about 420 tokens (with 64 new ones, within the 512 positions): long enough
# that re-encoding it at every step shows in the time.
SPEED_PROMPT = " ".join(PROMPTS * 12)
# Beyond this multiple of generate()'s time the KV cache is not used: docs/measurements/ex2.md#speed-gate.
SPEED_RATIO_LIMIT = 5.0
# Relative tolerance of a perplexity (stored, or exp(-score)): docs/measurements/ex2.md#perplexity.
PPL_RTOL = 1e-5

pytestmark = pytest.mark.time_limit(60)
# The real 1.5B model's beam search check: docs/measurements/ex2.md#time-limits.
REAL_MODEL_TIME_LIMIT = 600 if not torch.cuda.is_available() else 120
# The two hypothesis tiers under load: docs/measurements/ex2.md#time-limits.
TIER_TIME_LIMIT = 180


@cache
def expected(section: str):
    """The results stored for the shipped fixtures (fixtures/ex2/make_expected_results.py)."""
    return json.loads(EXPECTED_RESULTS.read_text(encoding="utf-8"))[section]


@pytest.fixture(scope="module")
def ex2(target: Target) -> LearnerModule:
    return target.learner_module(FILE).load()


@pytest.fixture(autouse=True)
def offline(ex2: LearnerModule, target: Target) -> Iterator[None]:
    """Before every check (a learner process restarted after a time limit starts afresh): single-threaded."""
    target.recipe("torch_threads", 1)
    with fakehub.offline_everywhere(target):
        yield


@pytest.fixture(scope="session")
def tiny():
    """The checks' own tiny model and tokenizer: the oracle, never handed to learner code."""
    torch.set_num_threads(1)  # docs/pitfalls.md: more threads on a loaded 2-core box were far slower
    model = AutoModelForCausalLM.from_pretrained(TINY).eval()
    tokenizer = AutoTokenizer.from_pretrained(TINY)
    return model, tokenizer


def learner_lm(target: Target, folder: Path = TINY, **kwargs) -> tuple[Handle, Handle]:
    """The model (eval mode) and tokenizer of `folder`, built in the learner process for one check (recipe
    causal_lm): learner code never holds the checks' objects, nor a model an earlier check handed it."""
    return target.recipe("causal_lm", folder, **kwargs)


@pytest.fixture
def learner_tiny(ex2: LearnerModule, target: Target) -> tuple[Handle, Handle]:
    return learner_lm(target)


@pytest.fixture(scope="session")
def real_model():
    """The real Qwen2-1.5B-Instruct when DLGRADE_QWEN2_PATH names its folder (else the check skips):
    its folder, and the checks' own model and tokenizer of it."""
    folder = real_folder(REAL_ENV, "Qwen2-1.5B-Instruct")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto").to(device).eval()
    return folder, model, AutoTokenizer.from_pretrained(folder)


def as_got(value):
    """A returned value as a message shows it: data as it is, a learner object by its class."""
    return prose(repr(value)) if isinstance(value, Handle) else value


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
@pytest.mark.hint(N_("snapshot_download(repo_id, local_dir=local_dir, endpoint=endpoint, allow_patterns=[...]) "
                     "fetches only the files you list and returns the folder"))
def test_download_fetches_what_the_model_needs(ex2, target, tmp_path):
    files, needed = hub_repo()
    local_dir = tmp_path / "qwen2"
    # What was fetched is what the hub in this process served, never what the learner process reports.
    environment = {"HF_HUB_DISABLE_TELEMETRY": "1", "HF_HOME": str(tmp_path / "hf-home")}
    with target.learner_environ(environment), fakehub.serve({REPO_ID: files}) as hub:
        folder = ex2.download_model(REPO_ID, local_dir, endpoint=hub.endpoint)
        fetched = hub.fetched_files(REPO_ID)
    expect(isinstance(folder, (str, PurePath)) and Path(folder).resolve() == local_dir.resolve(),
           tr("download_model() returns local_dir"), expected=str(local_dir), got=as_got(folder))
    expect(not fetched - needed, tr("downloaded files the model does not need"), got=sorted(fetched - needed),
           hint=tr("pass allow_patterns (or ignore_patterns) to snapshot_download"))
    missing = {name for name in needed if not (local_dir / name).is_file()}
    expect(not missing, tr("files missing from local_dir"), got=sorted(missing))
    # The folder holds the hub's bytes (compared, never loaded: this process reads no file learner code wrote
    # as anything but bytes).
    for name in sorted(needed):
        expect((local_dir / name).read_bytes() == files[name],
               tr("download_model(): {file} in local_dir differs from the hub's file", file=name),
               hint=tr("snapshot_download(repo_id, local_dir=local_dir, ...) writes the files there as they are"))


# ---------------------------------------------------------------- ex2.2 inspect the folder


def folder_variant(root: Path, name: str, source: Path = TINY, *, generation: dict | None = None,
                   keep_generation: bool = False, config_changes: dict | None = None,
                   extra_files: dict[str, str] | None = None) -> Path:
    """The configs and tokenizer files of `source` (no weights: inspecting needs none), with
    generation_config.json replaced by `generation` (left out when None, unless `keep_generation`),
    config.json's top-level fields changed, and extra files written."""
    folder = root / name
    folder.mkdir()
    for path in source.iterdir():
        if path.suffix in (".json", ".jinja", ".md") and (keep_generation or path.name != "generation_config.json"):
            shutil.copy(path, folder)
    if generation is not None:
        (folder / "generation_config.json").write_text(json.dumps(generation, indent=2))
    if config_changes:
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, **config_changes}, indent=2))
    for rel, text in (extra_files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def build_inspected_folders(root: Path) -> dict[str, Path]:
    """The folders test_inspect_model_folder reads (also built by fixtures/ex2/make_expected_results.py)."""
    generation = json.loads((TINY / "generation_config.json").read_text())
    # What snapshot_download(local_dir=...) leaves next to the files it fetched, and the
    # .gitattributes a clone of the hub repository has at its top.
    bookkeeping = {".cache/huggingface/.gitignore": "*\n", ".gitattributes": "*.safetensors filter=lfs\n"}
    for name in ("config.json", "generation_config.json", "tokenizer.json"):
        bookkeeping[f".cache/huggingface/download/{name}.metadata"] = "0123456789abcdef\n1700000000.0\n"
        bookkeeping[f".cache/huggingface/download/{name}.lock"] = ""
    return {
        "transformers5-layout": TINY, "transformers4-layout": LEGACY_CONFIGS,
        "single-eos-id": folder_variant(root, "single-eos-id", generation={**generation, "eos_token_id": 1999}),
        "no-generation-config": folder_variant(root, "no-generation-config"),
        "with-hidden-cache": folder_variant(root, "with-hidden-cache", generation=generation,
                                            extra_files=bookkeeping),
        # A hand-written config (as some repositories carry) stores rope_theta as an integer.
        "integer-rope-theta": folder_variant(root, "integer-rope-theta", LEGACY_CONFIGS, keep_generation=True,
                                             config_changes={"rope_theta": 10000}),
    }


INSPECTED_LAYOUTS = ["transformers5-layout", "transformers4-layout", "single-eos-id", "no-generation-config",
                     "with-hidden-cache", "integer-rope-theta"]


@pytest.fixture(scope="session")
def inspected_folders(tmp_path_factory) -> dict[str, Path]:
    return build_inspected_folders(tmp_path_factory.mktemp("ex2-folders"))


def json_digest(value: object) -> str:
    """A fingerprint of parsed JSON content (key order ignored)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def as_json(value: object) -> object:
    """`value` as JSON reads it back (dict keys become strings): how the stored results keep it."""
    try:
        return json.loads(json.dumps(value, sort_keys=True))
    except (TypeError, ValueError):
        return value


def same_value(got: object, wanted: object) -> bool:
    """Equal and of the same types all the way down (10000 is not the float 10000.0 here)."""
    if type(got) is not type(wanted):
        return False
    if isinstance(wanted, dict):
        return got.keys() == wanted.keys() and all(same_value(got[k], wanted[k]) for k in wanted)
    if isinstance(wanted, list):
        return len(got) == len(wanted) and all(same_value(g, w) for g, w in zip(got, wanted))
    return got == wanted


def files_hint(got: object, wanted: dict) -> str | None:
    if not isinstance(got, dict):
        return None
    extra, missing = set(got) - set(wanted), set(wanted) - set(got)
    if any(any(part.startswith(".") for part in Path(rel).parts[:-1]) for rel in extra):
        return tr("snapshot_download keeps its own bookkeeping under .cache/; leave out files under hidden folders")
    if any(Path(rel).name.startswith(".") for rel in missing):
        return tr("only files under hidden folders are left out; a hidden file itself (.gitattributes) is listed")
    return None


@pytest.mark.item("ex2.2")
@pytest.mark.hint(N_("list every file below the folder with its size (none under hidden folders), parse every "
                     ".json file, and take each summary field, with the type the docstring gives, from "
                     "config.json or generation_config.json"))
@pytest.mark.parametrize("layout", INSPECTED_LAYOUTS)
def test_inspect_model_folder(ex2, inspected_folders, layout):
    folder, stored = inspected_folders[layout], expected("inspect")[layout]
    report = ex2.inspect_model_folder(folder)
    expect_type(report, dict, tr("inspect_model_folder()'s return value"))
    expect_equal(report.get("files"), stored["files"],
                 tr("'files' of the {layout} folder: every file and its size in bytes, none under hidden folders",
                    layout=layout), hint=files_hint(report.get("files"), stored["files"]))
    parsed = report.get("json")
    expect(isinstance(parsed, dict) and sorted(parsed) == sorted(stored["json_sha256"]),
           tr("'json' holds every .json file, parsed"), expected=sorted(stored["json_sha256"]),
           got=sorted(parsed) if isinstance(parsed, dict) else prose(type_name(parsed)))
    for name, digest in stored["json_sha256"].items():
        expect(json_digest(parsed[name]) == digest, tr("'json'[{name}] is not the parsed content of the file",
                                                       name=repr(name)),
               hint=tr("json.loads(path.read_text()) of the file itself"))
    summary = report.get("summary")
    expect_type(summary, dict, tr("'summary'"))
    for key, value in stored["summary"].items():
        got = summary.get(key, prose("<missing>"))
        if not same_value(got, value):
            fail(tr("summary[{key}] of the {layout} folder", key=repr(key), layout=layout), expected=value, got=got,
                 hint=tr("the docstring gives {key} as {type}: convert what the file stores", key=repr(key),
                         type=type_name(value)) if not isinstance(got, Handle) and got == value else None)


# ---------------------------------------------------------------- ex2.3 load and describe


# Largest difference allowed between the logits of the model load_model() returns and those of the checks' own
# copy, on the same token ids (docs/measurements/ex2.md#loaded-logits): equal for from_pretrained(dtype=...);
# up to 0.21 apart in bfloat16 for a float32 load cast with .to(torch.bfloat16), also right; a model with other
# weights is at least 9.5 apart.
LOGITS_TOLERANCE = {torch.float32: {"rtol": 0.0, "atol": 1e-3}, torch.bfloat16: {"rtol": 0.0, "atol": 1.0}}
# A chat turn with special tokens: the learner's tokenizer must encode it as the folder's does.
PROBE_TEXT = "<|im_start|>user\nWhat is assert?<|im_end|>\n<|im_start|>assistant\n"


def random_token_ids(vocab_size: int) -> torch.Tensor:
    """Two rows of token ids drawn now (not stored anywhere learner code could read them)."""
    generator = torch.Generator()
    generator.seed()
    return torch.randint(0, vocab_size, (2, 9), generator=generator)


@cache
def reference_model(stored: str, dtype: str):
    """The checks' own tiny model as a folder stored in `stored` loads in `dtype` (never handed to learner code):
    its weights rounded to the narrower of the two, then widened if need be.

    Rounded by from_pretrained(dtype=torch.bfloat16), never by `.to(torch.bfloat16)`: that casts the rotary
    embedding's frequencies too, which from_pretrained keeps in float32 (the logits then differ by up to 0.2)."""
    narrow = "bfloat16" if "bfloat16" in (stored, dtype) else "float32"
    model = AutoModelForCausalLM.from_pretrained(TINY, dtype=getattr(torch, narrow)).eval()
    return model if dtype == narrow else model.to(getattr(torch, dtype))


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
@pytest.mark.hint(N_("AutoModelForCausalLM.from_pretrained(folder, dtype=...) with dtype=\"auto\" when dtype is None, "
                     "AutoTokenizer.from_pretrained(folder), then move the model to device"))
@pytest.mark.parametrize("stored,dtype", [("float32", None), ("bfloat16", None), ("float32", torch.bfloat16),
                                          ("bfloat16", torch.float32)],
                         ids=["float32-folder-stored-dtype", "bfloat16-folder-stored-dtype", "to-bfloat16",
                              "to-float32"])
def test_load_model(ex2, tiny, bfloat16_folder, stored, dtype):
    folder = TINY if stored == "float32" else bfloat16_folder
    loaded = ex2.load_model(folder, dtype=dtype)
    expect(isinstance(loaded, tuple) and len(loaded) == 2, tr("load_model() returns (model, tokenizer)"),
           got=prose(type_name(loaded)))
    model, tokenizer = loaded
    # The class and the EOS token are what the learner process reports (observations); the logits and the
    # token ids below are the model's and the tokenizer's own outputs on inputs drawn now, judged here.
    expect_equal(type_name(model).rpartition(".")[2], "Qwen2ForCausalLM", tr("the model class"))
    wanted = dtype or getattr(torch, stored)
    probe = random_token_ids(tiny[0].config.vocab_size)
    logits = model(input_ids=probe).logits
    expect(isinstance(logits, torch.Tensor), tr("the logits of load_model()'s model on {count} token ids",
                                                count=probe.numel()), got=as_got(logits))
    # A Qwen2 computes its logits in the dtype of its parameters.
    expect_equal(logits.dtype, wanted,
                 tr("parameter dtype of the {stored} folder loaded with dtype={dtype}", stored=stored,
                    dtype=repr(dtype)),
                 hint=tr("dtype=None keeps what config.json stores: from_pretrained(..., dtype=\"auto\")"))
    with torch.no_grad():
        reference = reference_model(stored, str(wanted).removeprefix("torch."))(input_ids=probe).logits
    expect(logits.shape == reference.shape and torch.allclose(logits.detach(), reference, **LOGITS_TOLERANCE[wanted]),
           tr("the logits of load_model()'s model on {count} token ids", count=probe.numel()),
           hint=tr("load the weights of the folder given: AutoModelForCausalLM.from_pretrained(folder, dtype=...)"))
    expect_equal(tokenizer.eos_token, "<|im_end|>", tr("the tokenizer loads from the same folder"))
    expect_equal(tokenizer(PROBE_TEXT)["input_ids"], tiny[1](PROBE_TEXT)["input_ids"],
                 tr("the tokenizer loads from the same folder"))


@pytest.mark.item("ex2.3")
@pytest.mark.hint(N_("walk model.named_parameters() (tied weights appear once); str(model) and "
                     "model.config.to_dict() give the structure and the config"))
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_describe_model(ex2, target, dtype):
    model = target.recipe("from_pretrained", "transformers.AutoModelForCausalLM", TINY).to(getattr(torch, dtype))
    stored = expected("describe")[dtype]
    report = ex2.describe_model(model)
    expect_type(report, dict, tr("describe_model()'s return value"))
    got = report.get("parameters") or []
    expect_equal([p.get("name") for p in got], [w["name"] for w in stored["parameters"]],
                 tr("one entry per parameter, in named_parameters() order"),
                 hint=tr("state_dict() also lists the tied lm_head.weight; named_parameters() lists it once"))
    for entry, truth in zip(got, stored["parameters"]):
        entry = {**entry, "shape": tuple(entry.get("shape", ()))}
        truth = {**truth, "shape": tuple(truth["shape"])}
        for key in ("shape", "device", "dtype", "numel"):
            expect_equal(entry.get(key), truth[key], tr("{name}: {key}", name=truth["name"], key=key))
    expect_equal(report.get("total_parameters"), stored["total_parameters"],
                 tr("total_parameters (tied weights counted once)"))
    expect(report.get("structure") == stored["structure"], tr("'structure' is what print(model) shows"))
    config = {**stored["config"], "_name_or_path": str(TINY)}  # the path this check loaded the model from
    expect(as_json(report.get("config")) == config, tr("'config' is model.config.to_dict()"))


# ---------------------------------------------------------------- ex2.4 generate()


REPLY_MESSAGES = ["What is assert?", "Tell me about the for statement."]
REPLY_SETTINGS = {"greedy": {"do_sample": False}, "beams": {"do_sample": False, "num_beams": 3}}


@pytest.mark.item("ex2.4")
@pytest.mark.hint(N_("build the prompt with apply_chat_template(..., add_generation_prompt=True, return_dict=True), "
                     "pass input_ids, attention_mask and every keyword to model.generate(), and decode only the "
                     "new tokens with skip_special_tokens=True"))
@pytest.mark.parametrize("setting", ["greedy", "beams"])
def test_generate_reply_equals_generate(ex2, target, learner_tiny, setting):
    model, tokenizer = learner_tiny
    settings_all = {**REPLY_SETTINGS[setting], "repetition_penalty": 1.0}
    for message in REPLY_MESSAGES:
        # The reply is judged against the stored one. The arguments generate() got are recorded in the learner
        # process (recipe watch_generate): an observation, which code that reaches generate() some other way
        # than model.generate (or rewrites the record) escapes.
        log = target.recipe("watch_generate", model)
        reply = ex2.generate_reply(model, tokenizer, message, max_new_tokens=24, **settings_all)
        calls = target.recipe("generate_calls", log)
        expect_type(reply, str, tr("generate_reply()'s return value"))
        expect_equal(reply, expected("generate_reply")[setting][message],
                     tr("reply to {message} with {settings}", message=repr(message), settings=settings_all),
                     hint=tr("only the new tokens, decoded with skip_special_tokens=True"))
        expect(calls, tr("generate_reply() calls model.generate()"))
        call = calls[-1]
        ids = next((v for v in (call.get("input_ids"), call.get("inputs"), *call["args"][:1]) if v is not None), None)
        mask = call.get("attention_mask")
        expect(isinstance(mask, torch.Tensor) and isinstance(ids, torch.Tensor) and mask.shape == ids.shape,
               tr("model.generate() is called without the prompt's attention_mask"),
               expected=prose(tr("a tensor of the prompt's shape {shape}",
                                 shape=tuple(ids.shape) if isinstance(ids, torch.Tensor) else "?")),
               got=prose(type_name(mask)),
               hint=tr("pass attention_mask (apply_chat_template(..., return_dict=True) makes it): without it "
                       "generate() guesses the mask, wrongly once a batch is padded"))


# ---------------------------------------------------------------- ex2.5 beam search


BEAM_HINT = N_("keep the top candidates over all beams x vocabulary by summed log-prob (float32), reorder the cache "
               "with the chosen beams, and follow the docstring's rules of generate() for finishing and stopping")


@pytest.mark.item("ex2.5", weight=2)
@pytest.mark.hint(BEAM_HINT)
@pytest.mark.time_limit(TIER_TIME_LIMIT)
def test_beam_search_tier1_fixed_length(ex2, tiny, learner_tiny):
    """Tier 1: no EOS, so every hypothesis runs to max_new_tokens: the core of beam search."""
    model, tokenizer = tiny
    learner_model, _ = learner_tiny
    worst = WorstScore()

    @TIER1_SETTINGS
    @given(prompt=st.sampled_from(PROMPTS), num_beams=st.integers(2, 4), max_new_tokens=st.integers(1, 12))
    @shrinking_within(SHRINK_BUDGET_S)
    def search(prompt, num_beams, max_new_tokens):
        worst.add(*compare_beam_search(ex2, learner_model, model, tokenizer, [prompt], num_beams=num_beams,
                                       max_new_tokens=max_new_tokens, eos_token_id=None, length_penalty=1.0))

    search()
    worst.check()


@pytest.mark.item("ex2.5", weight=2)
@pytest.mark.hint(BEAM_HINT)
@pytest.mark.time_limit(TIER_TIME_LIMIT)
def test_beam_search_tier2_eos_penalty_batches(ex2, tiny, learner_tiny):
    """Tier 2: EOS ids (a list or one int), length penalty, early stopping, left-padded batches, chat prompts."""
    model, tokenizer = tiny
    learner_model, _ = learner_tiny
    worst = WorstScore()

    @TIER2_SETTINGS
    @pinned(PINNED)
    # A row count and a fixed-size tuple rather than st.lists: docs/pitfalls.md (hypothesis).
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
        worst.add(*compare_beam_search(ex2, learner_model, model, tokenizer, texts, num_beams=num_beams,
                                       max_new_tokens=max_new_tokens, eos_token_id=eos_token_id,
                                       pad_token_id=pad_token_id, length_penalty=length_penalty,
                                       early_stopping=early_stopping))

    search()
    worst.check()


@pytest.mark.item("ex2.5")
@pytest.mark.hint(BEAM_HINT)
@pytest.mark.time_limit(REAL_MODEL_TIME_LIMIT)
@pytest.mark.optional  # runs only where a learner has the real model: a grade does not count it
def test_beam_search_on_the_real_model(ex2, target, real_model):
    folder, model, tokenizer = real_model
    learner_model, _ = learner_lm(target, folder, dtype="auto", device=model.device.type)
    for prompt in ("The capital of France is", "Beam search is"):
        check_beam_search(ex2, learner_model, model, tokenizer, [prompt], num_beams=3, max_new_tokens=8,
                          eos_token_id=None)


@pytest.mark.item("ex2.5")
@pytest.mark.hint(N_("prefill the prompt once, then at every step pass the cache, the attention mask grown by one "
                     "column, the position ids and only the newest token of each beam"))
def test_beam_search_uses_the_kv_cache(ex2, target, tiny, learner_tiny):
    """Logs what every forward call receives: the prompt once (per row or per beam), then one token per
    beam per step, the attention mask at every call, and the positions that mask gives.

    The log is an observation: a hook on the base model in the learner process (recipe watch_forward)
    records it, so a targeted forgery could fake it (run the layers around the hook, or rewrite the
    record). The tiers judge the tokens and scores beam_search() returns against generate() here; this
    check adds how they were computed."""
    learner_model, _ = learner_tiny
    texts, beams, new_tokens = ["x", "The for statement", "Names refer to objects."], 3, 6
    input_ids, attention_mask = left_padded(tiny[1], texts)
    log = target.recipe("watch_forward", learner_model)
    ex2.beam_search(learner_model, input_ids, attention_mask, num_beams=beams, max_new_tokens=new_tokens,
                    eos_token_id=None)
    judge_forward_calls(target.recipe("forward_calls", log), attention_mask, beams, new_tokens)


def timed(function, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


@pytest.mark.item("ex2.5")
@pytest.mark.hint(N_("that much slower means the KV cache is not used: prefill once, then feed one token per beam"))
def test_beam_search_speed_against_generate(ex2, tiny, learner_tiny, benchmark, request):
    """Shown to the learner: time per prompt of beam_search() vs generate(num_beams=4) at 64 tokens.
    The project's own tests catch a missing cache by counting tokens (the check above), never by time.
    beam_search() runs in the learner process (its time includes one call over the channel), generate()
    here, both single-threaded."""
    model, tokenizer = tiny
    learner_model, _ = learner_tiny
    input_ids, attention_mask = left_padded(tokenizer, [SPEED_PROMPT])
    settings_ = {"num_beams": 4, "max_new_tokens": 64, "eos_token_id": None}

    def theirs():
        oracle_beam(model, input_ids, attention_mask, **settings_)

    theirs()
    generate_times = timed(theirs, rounds=3)
    benchmark.group = "ex2.5 beam search, 64 new tokens"
    benchmark.pedantic(ex2.beam_search, args=(learner_model, input_ids, attention_mask), kwargs=settings_,
                       rounds=3, iterations=1, warmup_rounds=1)
    # pytest-benchmark turns itself off under xdist or --benchmark-disable (stats is None then).
    learner_times = benchmark.stats.stats.data if benchmark.stats else \
        timed(lambda: ex2.beam_search(learner_model, input_ids, attention_mask, **settings_), rounds=3)
    # Fastest rounds: on a shared machine other work only ever adds time.
    ratio = min(learner_times) / min(generate_times)
    benchmark.extra_info["ratio_vs_generate"] = round(ratio, 2)
    # user_properties, not the record_property fixture: that one warns under junit_family xunit2.
    request.node.user_properties.append(("beam_search_vs_generate", f"{ratio:.2f}x"))
    expect(ratio <= SPEED_RATIO_LIMIT, tr("beam_search() is far slower than generate(num_beams=4)"),
           expected=prose(tr("at most {limit:g}x generate's time", limit=SPEED_RATIO_LIMIT)),
           got=prose(f"{ratio:.1f}x"))


# ---------------------------------------------------------------- ex2.6 perplexity


def close(got: object, wanted: float, rtol: float) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - wanted) <= rtol * wanted


@pytest.mark.item("ex2.6")
@pytest.mark.hint(N_("run the model once on prompt + continuation and average the NLL over the continuation "
                     "tokens only (each predicted from the position before it), in float32; return a float"))
@pytest.mark.parametrize("case", range(3), ids=["for-statement", "x", "exceptions"])
def test_perplexity_matches_the_logits(ex2, tiny, learner_tiny, case):
    _, tokenizer = tiny
    stored = expected("perplexity")[case]
    prompt_ids = tokenizer(stored["prompt"], return_tensors="pt")["input_ids"][0]
    continuation_ids = tokenizer(stored["continuation"], return_tensors="pt")["input_ids"][0]
    got = ex2.perplexity(learner_tiny[0], prompt_ids, continuation_ids)
    expect_type(got, float, tr("perplexity()'s return value"))
    expect(close(got, stored["perplexity"], PPL_RTOL),
           tr("perplexity of {continuation} after {prompt}", continuation=repr(stored["continuation"]),
              prompt=repr(stored["prompt"])), expected=stored["perplexity"], got=got)


@pytest.mark.item("ex2.6")
@pytest.mark.hint(N_("with length_penalty 1 and no EOS, generate()'s sequences_scores is the mean log-prob of the "
                     "new tokens: your perplexity of them must be exp(-score)"))
@pytest.mark.parametrize("prompt", PROMPTS[:4])
def test_beam_score_is_minus_log_perplexity(ex2, tiny, learner_tiny, prompt):
    model, tokenizer = tiny
    input_ids, attention_mask = left_padded(tokenizer, [prompt])
    sequences, scores = oracle_beam(model, input_ids, attention_mask, num_beams=4, max_new_tokens=12,
                                    length_penalty=1.0, eos_token_id=None)
    got = ex2.perplexity(learner_tiny[0], input_ids[0], sequences[0, input_ids.shape[1]:])
    wanted = float(torch.exp(-scores[0]))
    expect(close(got, wanted, PPL_RTOL), tr("perplexity of the beam output vs exp(-sequences_scores)"),
           expected=wanted, got=got)


def text_hint(name: str, got: object, stored: dict) -> str:
    """Why a continuation differs, where the stored results can tell."""
    if isinstance(got, str) and got == stored[f"{name}_text_model_defaults"]:
        return tr("this is what generate() gives with the model's own repetition_penalty (1.05 in "
                  "generation_config.json): pass repetition_penalty=1.0")
    return tr("generate with do_sample=False, repetition_penalty=1.0, num_beams (1 for greedy) and max_new_tokens "
              "as given, and decode only the new tokens with skip_special_tokens=True")


@pytest.mark.item("ex2.6")
@pytest.mark.hint(N_("generate both continuations with do_sample=False and repetition_penalty=1.0, decode only the new "
                     "tokens, and give perplexity() the new token ids after the prompt"))
def test_compare_greedy_and_beam(ex2, learner_tiny, request):
    model, tokenizer = learner_tiny
    beam_wins = 0
    for prompt, stored in expected("compare").items():
        num_beams, max_new_tokens = stored["num_beams"], stored["max_new_tokens"]
        result = ex2.compare_greedy_and_beam(model, tokenizer, prompt, num_beams=num_beams,
                                             max_new_tokens=max_new_tokens)
        expect_type(result, dict, tr("compare_greedy_and_beam()'s return value"))
        for name in ("greedy", "beam"):
            where = tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                       key=f"{name}_text", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens)
            got = result.get(f"{name}_text")
            expect_equal(got, stored[f"{name}_text"], where, hint=text_hint(name, got, stored))
            got = result.get(f"{name}_ppl")
            expect(close(got, stored[f"{name}_ppl"], PPL_RTOL),
                   tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                      key=f"{name}_ppl", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens),
                   expected=stored[f"{name}_ppl"], got=got,
                   hint=tr("perplexity() of the continuation's token ids (the new tokens only) given the prompt"))
        beam_wins += result["beam_ppl"] <= result["greedy_ppl"] * (1 + 1e-6)
    # A fact about this model, shown rather than gated (the values above are already exact).
    request.node.user_properties.append(("beam_ppl_le_greedy_ppl", f"{beam_wins}/{len(expected('compare'))} prompts"))
