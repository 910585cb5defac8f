"""Instructor-only checks of exercise 2: live oracles on inputs the learners have not seen.

Not shipped to learners (`dlgrade release` leaves hidden_checks/ out): grade with
`dlgrade grade SUBMISSIONS --hidden hidden_checks` or bundle with
`dlgrade autograder OUT.zip --hidden hidden_checks`; run locally with
`pytest hidden_checks --target PATH` (add DLGRADE_QWEN2_PATH=<Qwen2-1.5B-Instruct folder> for the
real model).

The visible checks (checks/test_ex2.py) compare with results stored for the shipped fixtures, so
that they hold no copy of an answer. Here the oracles are computed live: a perplexity from the
model's logits, greedy and beam continuations from generate(), the chat reply from
apply_chat_template + generate(), on new prompts, on the tiny model and, when DLGRADE_QWEN2_PATH
names its folder, on the real Qwen2-1.5B-Instruct (the learner's own copy of the real thing).

The oracles run here, on the checks' own models; the learner's functions run in the learner process
(dlgrade/boundary) on a model and tokenizer built there from the same folder for each check, and
what they return comes back as data.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM, AutoTokenizer

from dlgrade.boundary.proxy import Handle, LearnerModule
from dlgrade.checkkit import fakehub
from dlgrade.checkkit.feedback import expect, expect_equal, expect_type
from dlgrade.checkkit.real_models import real_folder
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

PROJECT = Project.locate()
sys.path.insert(0, str(PROJECT.checks))
from ex2_beam_cases import (  # noqa: E402
    EOS_IDS,
    PROMPTS,
    TIER1_SETTINGS,
    WorstScore,
    compare_beam_search,
    only_explicit_settings,
    shrinking_within,
)

FILE = "ex2_llm.py"
TINY = PROJECT.fixtures / "ex2" / "tiny-qwen2"
REAL_ENV = "DLGRADE_QWEN2_PATH"
# The same tolerance as the visible checks' (docs/measurements/ex2.md#perplexity).
PPL_RTOL = 1e-5
# The real model on a CPU (docs/measurements/ex2.md#time-limits).
REAL_MODEL_TIME_LIMIT = 600 if not torch.cuda.is_available() else 120

pytestmark = pytest.mark.time_limit(60)


@pytest.fixture(scope="module")
def ex2(target: Target) -> LearnerModule:
    return target.learner_module(FILE).load()


@pytest.fixture(autouse=True)
def offline(ex2: LearnerModule, target: Target) -> Iterator[None]:
    """No check reaches the real Hub (here or in the learner process), single-threaded as the visible checks."""
    fakehub.learner_offline(target)
    target.recipe("torch_threads", 1)
    with fakehub.offline():
        yield


@pytest.fixture(scope="session")
def tiny():
    """The checks' own tiny model and tokenizer: the oracle, never handed to learner code."""
    torch.set_num_threads(1)
    return AutoModelForCausalLM.from_pretrained(TINY).eval(), AutoTokenizer.from_pretrained(TINY)


@pytest.fixture(scope="session",
                params=["tiny", pytest.param("real", marks=[pytest.mark.time_limit(REAL_MODEL_TIME_LIMIT),
                                                            # only where the grader has the real model
                                                            pytest.mark.optional])])
def any_model(request, tiny) -> tuple[Path, object, object]:
    """The tiny model, and the real Qwen2-1.5B-Instruct when DLGRADE_QWEN2_PATH names its folder: the folder,
    and the checks' own model and tokenizer of it."""
    if request.param == "tiny":
        return (TINY, *tiny)
    folder = real_folder(REAL_ENV, "Qwen2-1.5B-Instruct")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="auto").to(device).eval()
    return folder, model, AutoTokenizer.from_pretrained(folder)


def learner_copy(target: Target, folder: Path, model) -> tuple[Handle, Handle]:
    """The model and tokenizer of `folder` built in the learner process for one check, as the checks' own
    `model` was loaded (recipe causal_lm): learner code never holds the checks' objects."""
    options = {} if folder == TINY else {"dtype": "auto"}
    return target.recipe("causal_lm", folder, device=model.device.type, **options)


def eos_and_pad(tokenizer) -> dict:
    return {"eos_token_id": [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")],
            "pad_token_id": tokenizer.pad_token_id}


def log_perplexity(model, prompt_ids, continuation_ids) -> float:
    ids = torch.cat([prompt_ids, continuation_ids])[None]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")[-len(continuation_ids):]
    return float(nll.double().mean().exp())


def close(got: object, wanted: float) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - wanted) <= PPL_RTOL * wanted


@pytest.mark.item("ex2.4")
@pytest.mark.hint(N_("build the prompt with apply_chat_template(..., add_generation_prompt=True, return_dict=True), "
                     "pass input_ids, attention_mask and every keyword to model.generate(), and decode only the "
                     "new tokens with skip_special_tokens=True"))
@pytest.mark.parametrize("settings_", [{"do_sample": False}, {"do_sample": False, "num_beams": 2}],
                         ids=["greedy", "beams"])
def test_generate_reply_on_new_messages(ex2, target, any_model, settings_):
    folder, model, tokenizer = any_model
    learner_model, learner_tokenizer = learner_copy(target, folder, model)
    settings_all = {**settings_, "repetition_penalty": 1.0}
    for message in ("Tell me about exceptions.", "What is the import system?"):
        reply = ex2.generate_reply(learner_model, learner_tokenizer, message, max_new_tokens=16, **settings_all)
        inputs = tokenizer.apply_chat_template([{"role": "user", "content": message}], add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True).to(model.device)
        with only_explicit_settings(model), torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=16, **eos_and_pad(tokenizer), **settings_all)
        wanted = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        expect_type(reply, str, tr("generate_reply()'s return value"))
        expect_equal(reply, wanted, tr("reply to {message} with {settings}", message=repr(message),
                                       settings=settings_all))


@pytest.mark.item("ex2.6")
@pytest.mark.hint(N_("run the model once on prompt + continuation and average the NLL over the continuation "
                     "tokens only (each predicted from the position before it), in float32; return a float"))
@pytest.mark.parametrize("prompt,continuation", [("Names refer to objects.", " They are bound by assignment."),
                                                 ("What is assert?", " The assert statement"),
                                                 ("The capital of France is", " Paris.")])
def test_perplexity_of_new_texts(ex2, target, any_model, prompt, continuation):
    folder, model, tokenizer = any_model
    learner_model, _ = learner_copy(target, folder, model)
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"][0].to(model.device)
    continuation_ids = tokenizer(continuation, return_tensors="pt")["input_ids"][0].to(model.device)
    got = ex2.perplexity(learner_model, prompt_ids, continuation_ids)
    wanted = log_perplexity(model, prompt_ids, continuation_ids)
    expect_type(got, float, tr("perplexity()'s return value"))
    expect(close(got, wanted), tr("perplexity of {continuation} after {prompt}", continuation=repr(continuation),
                                  prompt=repr(prompt)), expected=wanted, got=got)


@pytest.mark.item("ex2.6")
@pytest.mark.hint(N_("generate both continuations with do_sample=False and repetition_penalty=1.0, decode only the new "
                     "tokens, and give perplexity() the new token ids after the prompt"))
@pytest.mark.parametrize("prompt,num_beams,max_new_tokens", [("A function definition", 3, 12),
                                                             ("The while statement", 2, 9)])
def test_compare_greedy_and_beam_on_new_prompts(ex2, target, any_model, prompt, num_beams, max_new_tokens):
    folder, model, tokenizer = any_model
    result = ex2.compare_greedy_and_beam(*learner_copy(target, folder, model), prompt, num_beams=num_beams,
                                         max_new_tokens=max_new_tokens)
    expect_type(result, dict, tr("compare_greedy_and_beam()'s return value"))
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(model.device)
    for name, beams in (("greedy", 1), ("beam", num_beams)):
        with only_explicit_settings(model), torch.no_grad():
            out = model.generate(input_ids=prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False,
                                 num_beams=beams, max_new_tokens=max_new_tokens, **eos_and_pad(tokenizer))
        continuation = out[0, prompt_ids.shape[1]:]
        where = tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                   key=f"{name}_text", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens)
        expect_equal(result.get(f"{name}_text"), tokenizer.decode(continuation, skip_special_tokens=True), where)
        wanted = log_perplexity(model, prompt_ids[0], continuation)
        expect(close(result.get(f"{name}_ppl"), wanted),
               tr("{key} for {prompt} with num_beams={num_beams}, max_new_tokens={max_new_tokens}",
                  key=f"{name}_ppl", prompt=repr(prompt), num_beams=num_beams, max_new_tokens=max_new_tokens),
               expected=wanted, got=result.get(f"{name}_ppl"))


@pytest.mark.item("ex2.5")
@pytest.mark.hint(N_("keep the top candidates over all beams x vocabulary by summed log-prob (float32), reorder the "
                     "cache with the chosen beams, and follow the docstring's rules of generate() for finishing "
                     "and stopping"))
@pytest.mark.time_limit(180)
def test_beam_search_on_two_row_chat_batches(ex2, target, tiny):
    """Batches of two chat prompts (they end in EOS within ~9 tokens), a space the visible tiers draw
    from only now and then."""
    model, tokenizer = tiny
    learner_model, _ = learner_copy(target, TINY, model)
    worst = WorstScore()

    @TIER1_SETTINGS
    @given(first=st.sampled_from(PROMPTS), second=st.sampled_from(PROMPTS), num_beams=st.integers(2, 5),
           max_new_tokens=st.integers(4, 16), length_penalty=st.sampled_from([1.0, 0.5, 2.0]),
           early_stopping=st.sampled_from([False, True, "never"]), pad_token_id=st.sampled_from([None, 1997]))
    @shrinking_within(20)
    def search(first, second, num_beams, max_new_tokens, length_penalty, early_stopping, pad_token_id):
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True,
                                               tokenize=False) for t in (first, second)]
        worst.add(*compare_beam_search(ex2, learner_model, model, tokenizer, texts, num_beams=num_beams,
                                       max_new_tokens=max_new_tokens, eos_token_id=EOS_IDS,
                                       pad_token_id=pad_token_id, length_penalty=length_penalty,
                                       early_stopping=early_stopping))

    search()
    worst.check()
