"""Checks for exercise 5: the reading list in code.

Every oracle is a library's own implementation, never the reference solution:
torch's scaled_dot_product_attention and nn.MultiheadAttention (5.1), transformers'
DataCollatorForLanguageModeling and binomial bounds (5.2), ViTEmbeddings (5.3),
CLIPModel(return_loss=True) on the exercise-4 tiny CLIP (5.4), Qwen2's rotary embedding
of the exercise-2 tiny model and the relative-position property (5.5), peft's LoRA
layer (5.6), the tiny Qwen2's own loss (labels -100 outside the answer) for the
log-likelihoods of 5.7 and 5.8. Random inputs come from seeded generators and derandomised
hypothesis, so every verdict is the same on every run.

The learner's functions run in the learner process (dlgrade/boundary): tensors cross as their values,
and the models and tokenizers handed to learner code (a LoRA layer's base, the tiny Qwen2) are built
there from recipes, while the oracles use this process's own copies. ReAct's model is a replay server
in this process (dlgrade/checkkit/replay_server.py) and its tools a tool server here, so the requests
and tool calls judged are those the servers received. What is observed inside the learner process, and
so could be faked by a forgery aimed at these checks: where gradients flow (CLIP loss, LoRA, DPO) and
whether mask_tokens() changed its argument (recipes/papers.py), a LoRA layer's registered parameters,
and the requires_grad flag of sequence_logprobs()'s value.
"""
from __future__ import annotations

import ast
import copy
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from torch import nn

from dlgrade.boundary.proxy import Handle, LearnerModule, LearnerProcessError
from dlgrade.boundary.recipes import Recipe
from dlgrade.checkkit.feedback import expect, expect_equal, expect_type, fail, prose
from dlgrade.checkkit.local_http import serving
from dlgrade.checkkit.replay_server import ReplayServer
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures

FILE = "ex5_papers.py"
TINY_QWEN2 = FIXTURES_DIR / "ex2" / "tiny-qwen2"
TINY_CLIP = FIXTURES_DIR / "ex4" / "tiny-clip"
# Tolerances: the largest difference between a correct answer (the reference and a correct
# variant of tests/variants) and the oracle, measured by fixtures/ex5/measure_tolerances.py on
# seeded cases, with room for other summation orders: docs/measurements/ex5.md.
ATOL = 1e-5
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Each check takes well under a second once its model is loaded, but the first one to load a
# transformers model pays the import of transformers' modelling stack: with seven jobs sharing
# the 2-core development machine (load average 15) that setup ran past 60 s once. 120 s still
# stops a learner's endless loop.
pytestmark = pytest.mark.time_limit(120)


@pytest.fixture(scope="module")
def ex5(target: Target) -> LearnerModule:
    torch.set_num_threads(1)  # small tensors: threads only add overhead on a shared machine
    module = target.learner_module(FILE).load()
    target.recipe("torch_threads", 1)
    return module


@pytest.fixture(scope="module")
def tiny_qwen2():
    """The exercise-2 tiny Qwen2 and its tokenizer, this process's copies for the oracles of RoPE (5.5),
    DPO (5.7) and GPT-3 (5.8)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(TINY_QWEN2).eval(), AutoTokenizer.from_pretrained(TINY_QWEN2)


@pytest.fixture
def learner_qwen2(ex5: LearnerModule, target: Target) -> tuple[Handle, Handle]:
    """The same tiny Qwen2 and tokenizer as learner code gets them: built in the learner process, fresh for
    each check (a model learner code changed is never the next check's)."""
    ex5.load()  # a learner process restarted after a time limit imports the file first
    return target.recipe("causal_lm", TINY_QWEN2)


def expect_close(got, wanted: torch.Tensor, what: str, *, atol: float = ATOL, hint: str | None = None) -> None:
    """The learner's tensor has the oracle's shape and values (within atol); NaN is called NaN."""
    expect_type(got, torch.Tensor, what)
    expect(tuple(got.shape) == tuple(wanted.shape), tr("{what}: shape", what=what), expected=tuple(wanted.shape),
           got=tuple(got.shape))
    mine, theirs = got.detach().double(), wanted.detach().double()
    nans = int((mine.isnan() & ~theirs.isnan()).sum())
    expect(nans == 0, tr("{what}: values differ from the oracle", what=what),
           expected=prose(tr("within {atol}", atol=f"{atol:g}")),
           got=prose(tr("NaN in {count} of {total} entries", count=nans, total=mine.numel())), hint=hint)
    diff = (mine - theirs).abs()
    worst = float(diff.nan_to_num(float("inf")).max()) if diff.numel() else 0.0
    if wanted.numel() == 1:  # a scalar (a loss): both values say more than their distance
        expect(worst <= atol, tr("{what}: values differ from the oracle", what=what),
               expected=round(float(wanted), 6), got=round(float(got.detach()), 6), hint=hint)
    expect(worst <= atol, tr("{what}: values differ from the oracle", what=what),
           expected=prose(tr("within {atol}", atol=f"{atol:g}")), got=prose(tr("{error} off", error=f"{worst:.3g}")),
           hint=hint)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- ex5.1 Transformer attention


def random_mask(shape, g) -> torch.Tensor:
    """A boolean mask (True = attend) in which every query keeps at least key 0."""
    mask = torch.rand(shape, generator=g) < 0.6
    mask[..., 0] = True
    return mask


@pytest.mark.item("ex5.1")
@pytest.mark.hint(N_("softmax(q @ k^T / sqrt(d_k)) over the keys (last axis); a bool mask: True = attend; a float "
                     "mask is added to the scores; with is_causal every mask still applies, the causal one too"))
@PROPERTY_SETTINGS
@given(batch=st.integers(1, 2), heads=st.integers(1, 3), length=st.integers(1, 6), source=st.integers(1, 7),
       d_k=st.sampled_from([1, 4, 8, 64]), d_v=st.sampled_from([3, 8]),
       mask=st.sampled_from(["none", "bool", "float", "causal", "bool+causal", "float+causal", "broadcast-bool"]),
       seed=st.integers(0, 2**16))
# A float mask together with is_causal: pinned, so that the case runs whatever hypothesis draws.
@example(batch=1, heads=2, length=5, source=6, d_k=8, d_v=3, mask="float+causal", seed=3)
def test_attention_matches_torch_sdpa(ex5, batch, heads, length, source, d_k, d_v, mask, seed):
    g = generator(seed)
    q = torch.randn(batch, heads, length, d_k, generator=g)
    k = torch.randn(batch, heads, source, d_k, generator=g)
    v = torch.randn(batch, heads, source, d_v, generator=g)
    causal = "causal" in mask
    allowed = random_mask((batch, heads, length, source), g)
    if mask == "broadcast-bool":
        allowed = random_mask((batch, 1, 1, source), g)
    attn_mask = None
    if mask in ("bool", "bool+causal", "broadcast-bool"):
        attn_mask = allowed
    elif mask in ("float", "float+causal"):
        attn_mask = torch.randn(batch, heads, length, source, generator=g).masked_fill(~allowed, float("-inf"))
    # torch refuses attn_mask together with is_causal: the oracle gets the two combined.
    oracle_mask = attn_mask
    if causal and attn_mask is not None:
        lower = torch.ones(length, source, dtype=torch.bool).tril()
        oracle_mask = attn_mask & lower if attn_mask.dtype == torch.bool else attn_mask.masked_fill(~lower, -math.inf)
    got = ex5.scaled_dot_product_attention(q, k, v, attn_mask, is_causal=causal)
    wanted = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=oracle_mask,
                                                              is_causal=causal and attn_mask is None)
    hint = None
    if mask == "float+causal":
        hint = tr("with a float mask and is_causal=True both apply: add the float mask to the scores and still "
                  "mask out the keys j > i")
    expect_close(got, wanted, tr("attention with mask={mask}, q {q_shape}, k {k_shape}", mask=mask,
                                 q_shape=tuple(q.shape), k_shape=tuple(k.shape)), hint=hint)


@pytest.mark.item("ex5.1")
@pytest.mark.hint(N_("bool mask: True = the query MAY attend (masked_fill where the mask is False); "
                     "float mask: added to the scores"))
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_mask_meaning(ex5, kind):
    """A mask that allows key 2 only: every query's output is exactly value row 2."""
    g = generator(1)
    q, k, v = (torch.randn(1, 4, 8, generator=g) for _ in range(3))
    only = torch.zeros(1, 4, 4, dtype=torch.bool)
    only[..., 2] = True
    mask = only if kind == "bool" else torch.zeros(1, 4, 4).masked_fill(~only, float("-inf"))
    got = ex5.scaled_dot_product_attention(q, k, v, mask)
    expect_close(got, v[:, 2:3, :].expand(1, 4, 8), tr("a {kind} mask that allows key 2 only", kind=kind))


@pytest.mark.item("ex5.1")
@pytest.mark.hint(N_("query i attends to keys 0..i (torch.ones(L, S).tril() is the allowed set)"))
def test_causal_query_sees_itself_and_the_past(ex5):
    g = generator(2)
    q, k, v = (torch.randn(1, 5, 4, generator=g) for _ in range(3))
    got = ex5.scaled_dot_product_attention(q, k, v, is_causal=True)
    expect_close(got[:, :1], v[:, :1], tr("with is_causal=True the first query sees only the first key"))
    changed = v.clone()
    changed[:, 3:] += 100.0
    later = ex5.scaled_dot_product_attention(q, k, changed, is_causal=True)
    expect_close(later[:, :3], got[:, :3],
                 tr("with is_causal=True, changing later values must not change earlier outputs"))
    everything = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    expect_close(got[:, -1:], everything[:, -1:],
                 tr("with is_causal=True the last query sees every key, its own included"),
                 hint=tr("the allowed set includes the diagonal: tril(), not tril(-1)"))


def mha_oracle(embed, heads, bias, weights):
    mha = nn.MultiheadAttention(embed, heads, batch_first=True, bias=bias).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([weights["w_q"], weights["w_k"], weights["w_v"]]))
        mha.out_proj.weight.copy_(weights["w_o"])
        if bias:
            mha.in_proj_bias.copy_(torch.cat([weights["b_q"], weights["b_k"], weights["b_v"]]))
            mha.out_proj.bias.copy_(weights["b_o"])
    return mha


@pytest.mark.item("ex5.1")
@pytest.mark.hint(N_("y = x @ W.T + b; split the last axis into heads (view, then transpose heads before seq); "
                     "scale by sqrt(d_head); key_padding_mask True = ignore that key"))
@pytest.mark.parametrize("embed,heads,length,source,bias,padding,causal", [
    (16, 4, 5, 5, True, False, False),
    (16, 4, 5, 7, False, True, False),
    (12, 3, 6, 6, True, True, True),
    (8, 1, 4, 4, True, False, True),
    (24, 6, 3, 9, True, True, False),
], ids=["self", "cross-padded-no-bias", "padded-causal", "one-head-causal", "six-heads-cross"])
def test_multi_head_attention_matches_nn_multiheadattention(ex5, embed, heads, length, source, bias, padding, causal):
    g = generator(embed * 100 + heads)
    query = torch.randn(2, length, embed, generator=g)
    key = query if source == length and not padding else torch.randn(2, source, embed, generator=g)
    value = torch.randn(2, source, embed, generator=g)
    weights = {f"w_{n}": torch.randn(embed, embed, generator=g) / math.sqrt(embed) for n in "qkvo"}
    if bias:
        weights |= {f"b_{n}": torch.randn(embed, generator=g) for n in "qkvo"}
    key_padding_mask = None
    if padding:  # right padding: the second sequence's last keys are padding (True = ignore)
        key_padding_mask = torch.zeros(2, source, dtype=torch.bool)
        key_padding_mask[1, source // 2 + 1:] = True
    causal_mask = ~torch.ones(length, source, dtype=torch.bool).tril() if causal else None
    with torch.no_grad():
        wanted, _ = mha_oracle(embed, heads, bias, weights)(query, key, value, key_padding_mask=key_padding_mask,
                                                            attn_mask=causal_mask, need_weights=False)
    got = ex5.multi_head_attention(query, key, value, heads, **weights, key_padding_mask=key_padding_mask,
                                   is_causal=causal)
    case = ", ".join(["b_q, b_k, b_v, b_o" if bias else "b_*=None"] + ["key_padding_mask"] * padding
                     + ["is_causal"] * causal)
    expect_close(got, wanted, tr("multi-head attention, {heads} heads, embed_dim {embed} ({case})", heads=heads,
                                 embed=embed, case=case))


# ---------------------------------------------------------------- ex5.2 BERT masking

MASK_ID, VOCAB = 3, 50
# A correct implementation lands outside 6 binomial standard deviations about once in 5e8 draws;
# the samples below are large enough that an 80/12/8 split lands 10 to 17 deviations out
# (docs/measurements/ex5.md, fixtures/ex5/measure_masking.py).
SIGMAS = 6
# The proportion checks' batch: BIG_ROWS rows of BIG_LENGTH tokens, padded after these lengths in turn
# (about 180,000 choosable positions).
BIG_ROWS, BIG_LENGTH, ROW_LENGTHS = 2000, 128, [128, 100, 66, 128, 40, 128, 128, 18]


def bert_batch(g, batch, length, pad_from):
    """Ids 5..VOCAB-1 with [CLS]=1 first, [SEP]=2 last, padding 0 after `pad_from[i]` tokens."""
    ids = torch.randint(5, VOCAB, (batch, length), generator=g)
    special = torch.zeros(batch, length, dtype=torch.bool)
    for row, used in enumerate(pad_from):
        ids[row, 0], ids[row, used - 1] = 1, 2
        ids[row, used:] = 0
        special[row, 0] = special[row, used - 1:] = True
    return ids, special


def big_bert_batch(seed):
    lengths = [ROW_LENGTHS[i % len(ROW_LENGTHS)] for i in range(BIG_ROWS)]
    return bert_batch(generator(seed), BIG_ROWS, BIG_LENGTH, lengths)


def call_mask_tokens(ex5, target, ids, special, probability, seed):
    # input_ids as the learner process holds it after the call: an observation made there.
    call = target.recipe("call_keeping_arguments", ex5.mask_tokens, [ids, special],
                         {"mask_token_id": MASK_ID, "vocab_size": VOCAB, "mlm_probability": probability,
                          "generator": Recipe("seeded_generator", seed)})
    result = call["value"]
    expect(isinstance(result, tuple) and len(result) == 2, tr("mask_tokens() returns (inputs, labels)"),
           got=type(result).__name__)
    expect(torch.equal(call["arguments"][0], ids), tr("mask_tokens() must not modify input_ids (clone it first)"),
           hint=tr("inputs = input_ids.clone(); corrupt the copy"))
    inputs, labels = result
    for name, tensor in (("inputs", inputs), ("labels", labels)):
        expect_type(tensor, torch.Tensor, tr("mask_tokens()'s {name}", name=name))
        expect((tuple(tensor.shape), tensor.dtype) == (tuple(ids.shape), torch.int64),
               tr("{name}: shape and dtype", name=name), expected=(tuple(ids.shape), torch.int64),
               got=(tuple(tensor.shape), tensor.dtype))
    return inputs, labels


def outcome_counts(ids, inputs, labels) -> dict[str, int]:
    chosen = labels != -100
    return {"positions": int(ids.numel()), "chosen": int(chosen.sum()),
            "masked": int((chosen & (inputs == MASK_ID)).sum()),
            "kept": int((chosen & (inputs == ids)).sum())}


def within_binomial(count: int, trials: int, p: float, what: str, hint: str) -> None:
    sigma = math.sqrt(max(p * (1 - p), 1e-12) / max(trials, 1))
    share = count / max(trials, 1)
    expect(abs(share - p) <= SIGMAS * sigma + 1e-9, what, expected=prose(f"{p:.4f} ± {SIGMAS * sigma:.4f}"),
           got=prose(f"{share:.4f} ({count} / {trials})"), hint=hint)


@pytest.mark.item("ex5.2")
@pytest.mark.hint(N_("choose only where special_tokens_mask is False; labels: the original token where chosen, "
                     "-100 everywhere else; inputs unchanged where not chosen"))
@PROPERTY_SETTINGS
@given(lengths=st.lists(st.integers(2, 24), min_size=1, max_size=4), probability=st.sampled_from([0.15, 0.3, 0.6]),
       seed=st.integers(0, 2**16))
def test_special_tokens_and_padding_never_chosen(ex5, target, lengths, probability, seed):
    ids, special = bert_batch(generator(seed), len(lengths), 24, lengths)
    inputs, labels = call_mask_tokens(ex5, target, ids, special, probability, seed + 1)
    expect(bool((labels[special] == -100).all()), tr("special tokens and padding are never chosen (label -100 there)"),
           hint=tr("set the choice probability to 0 where special_tokens_mask is True"))
    expect(torch.equal(inputs[special], ids[special]), tr("special tokens and padding stay as they were in inputs"))
    chosen = labels != -100
    expect(torch.equal(labels[chosen], ids[chosen]), tr("labels hold the ORIGINAL token at every chosen position"),
           hint=tr("copy input_ids for the labels before corrupting the inputs"))
    expect(torch.equal(inputs[~chosen], ids[~chosen]),
           tr("positions that were not chosen (label -100) must be unchanged in inputs"))
    expect(bool(((inputs >= 0) & (inputs < VOCAB)).all()), tr("every input id is in range(vocab_size)"))


@pytest.mark.item("ex5.2")
@pytest.mark.hint(N_("choose each non-special position with probability mlm_probability; of the chosen, 80 % become "
                     "mask_token_id, 10 % a random id, 10 % stay (one uniform draw per position: < 0.8, < 0.9, rest)"))
@pytest.mark.parametrize("probability", [0.15, 0.4])
def test_masking_proportions_within_binomial_bounds(ex5, target, probability):
    """About 180,000 choosable positions: mlm_probability chosen, then 80 % [MASK] / 10 % random / 10 % kept."""
    ids, special = big_bert_batch(11)
    inputs, labels = call_mask_tokens(ex5, target, ids, special, probability, 1000)
    counts = outcome_counts(ids, inputs, labels)
    within_binomial(counts["chosen"], int((~special).sum()), probability,
                    tr("share of choosable positions chosen with mlm_probability={probability}",
                       probability=probability),
                    tr("choose each non-special position independently with probability mlm_probability"))
    # A random id is the mask token's with probability 1/VOCAB, and the original token's (never
    # a special one here) with probability 1/VOCAB too.
    within_binomial(counts["masked"], counts["chosen"], 0.8 + 0.1 / VOCAB,
                    tr("share of chosen positions replaced by the mask token"),
                    tr("80 % of the chosen positions become mask_token_id"))
    within_binomial(counts["kept"], counts["chosen"], 0.1 + 0.1 / VOCAB,
                    tr("share of chosen positions left unchanged"), tr("10 % random token, 10 % unchanged"))


@pytest.mark.item("ex5.2")
@pytest.mark.hint(N_("torch.randint(vocab_size, shape, generator=generator): every id of range(vocab_size), the "
                     "special tokens' included"))
def test_random_replacements_cover_the_vocabulary(ex5, target):
    """mlm_probability 0.5 on about 180,000 positions: some 8,800 visible random replacements, each id ~180 times."""
    ids, special = big_bert_batch(12)
    inputs, labels = call_mask_tokens(ex5, target, ids, special, 0.5, 2000)
    replaced = (labels != -100) & (inputs != MASK_ID) & (inputs != ids)
    drawn = set(inputs[replaced].tolist())
    outside = sorted(i for i in drawn if not 0 <= i < VOCAB)
    expect(not outside, tr("random replacements outside range(vocab_size)"), got=outside[:10])
    # The mask token's id, drawn at random, looks like a masked position: it cannot be seen here.
    never = [i for i in range(VOCAB) if i != MASK_ID and i not in drawn]
    expect(not never, tr("ids of range(vocab_size) never drawn as a random replacement (over {count} replacements)",
                         count=int(replaced.sum())), expected=[], got=never)


def collator_tokenizer():
    """A WordPiece tokenizer whose ids match bert_batch(): [PAD]=0 [CLS]=1 [SEP]=2 [MASK]=3 [UNK]=4.

    transformers 5's BertTokenizerFast(vocab_file=...) silently keeps only the five special
    tokens (len 5); vocab= as a dict builds the whole vocabulary."""
    from transformers import BertTokenizerFast

    words = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"] + [f"w{i}" for i in range(5, VOCAB)]
    tokenizer = BertTokenizerFast(vocab={word: i for i, word in enumerate(words)})
    assert len(tokenizer) == VOCAB and tokenizer.mask_token_id == MASK_ID
    return tokenizer


@pytest.mark.item("ex5.2")
@pytest.mark.hint(N_("the same 15 % / 80 % / 10 % / 10 % as transformers' DataCollatorForLanguageModeling"))
def test_masking_distribution_matches_data_collator(ex5, target):
    """The same inputs through transformers' DataCollatorForLanguageModeling: the shares agree."""
    from transformers import DataCollatorForLanguageModeling

    tokenizer = collator_tokenizer()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=7)
    mine = {"choosable": 0, "chosen": 0, "masked": 0, "kept": 0}
    theirs = copy.deepcopy(mine)
    for draw in range(40):
        ids, special = bert_batch(generator(draw), 8, 64, [64, 50, 33, 64, 20, 64, 64, 9])
        for counts, (inputs, labels) in ((mine, call_mask_tokens(ex5, target, ids, special, 0.15, 5000 + draw)),
                                         (theirs, collator.torch_mask_tokens(ids.clone(), special.clone()))):
            outcome = outcome_counts(ids, inputs, labels)
            for key in ("chosen", "masked", "kept"):
                counts[key] += outcome[key]
            counts["choosable"] += int((~special).sum())
    for key, of, label in (("chosen", "choosable", N_("share of choosable positions chosen")),
                           ("masked", "chosen", N_("share of chosen positions masked")),
                           ("kept", "chosen", N_("share of chosen positions kept"))):
        p_mine, p_theirs = mine[key] / mine[of], theirs[key] / theirs[of]
        pooled = (mine[key] + theirs[key]) / (mine[of] + theirs[of])
        sigma = math.sqrt(pooled * (1 - pooled) * (1 / mine[of] + 1 / theirs[of]))
        expect(abs(p_mine - p_theirs) <= SIGMAS * sigma,
               tr("{share}: yours vs DataCollatorForLanguageModeling", share=tr(label)),
               expected=prose(f"{p_theirs:.4f} ± {SIGMAS * sigma:.4f}"), got=prose(f"{p_mine:.4f}"))


@pytest.mark.item("ex5.2")
@pytest.mark.hint(N_("pass generator= to every torch.rand / torch.randint / torch.bernoulli call"))
def test_masking_follows_the_generator(ex5, target):
    ids, special = bert_batch(generator(3), 4, 32, [32, 20, 12, 32])
    first = call_mask_tokens(ex5, target, ids, special, 0.3, 42)
    again = call_mask_tokens(ex5, target, ids, special, 0.3, 42)
    expect(all(torch.equal(a, b) for a, b in zip(first, again)),
           tr("two calls with generators seeded alike must give the same result"))


# ---------------------------------------------------------------- ex5.3 ViT embeddings


@pytest.mark.item("ex5.3")
@pytest.mark.hint(N_("class token first, patches row by row, position embeddings added to every position including "
                     "the class token's"))
@pytest.mark.parametrize("image_size,patch,channels,hidden", [
    ((32, 32), 8, 3, 24), ((24, 40), 8, 1, 16), ((48, 48), 16, 3, 32),
], ids=["square-3ch", "rectangular-1ch", "3x3-patches"])
def test_vit_embeddings_match_transformers(ex5, image_size, patch, channels, hidden):
    from transformers import ViTConfig
    from transformers.models.vit.modeling_vit import ViTEmbeddings

    torch.manual_seed(sum(image_size) + patch)
    config = ViTConfig(image_size=list(image_size), patch_size=patch, num_channels=channels, hidden_size=hidden)
    oracle = ViTEmbeddings(config).eval()
    with torch.no_grad():  # ViT initialises these to zeros/truncated normals: make every entry distinct
        for parameter in oracle.parameters():
            parameter.normal_()
    pixels = torch.randn(2, channels, *image_size)
    with torch.no_grad():
        wanted = oracle(pixels)
    projection = oracle.patch_embeddings.projection
    got = ex5.vit_embeddings(pixels, projection.weight.detach(), projection.bias.detach(),
                             oracle.cls_token.detach(), oracle.position_embeddings.detach())
    expect_close(got, wanted, tr("ViT embeddings of a {height}x{width} image, patches {patch}x{patch}",
                                 height=image_size[0], width=image_size[1], patch=patch), atol=1e-4)


# ---------------------------------------------------------------- ex5.4 CLIP loss


@pytest.fixture(scope="module")
def tiny_clip():
    from transformers import CLIPModel, CLIPTokenizer

    return CLIPModel.from_pretrained(TINY_CLIP).eval(), CLIPTokenizer.from_pretrained(TINY_CLIP)


CLIP_TEXTS = ["a photo of a red circle", "a photo of a blue square", "a green triangle", "a yellow star",
              "a purple ring", "an orange cross"]


def clip_batch(model, tokenizer, size, seed):
    text = tokenizer(CLIP_TEXTS[:size], padding=True, return_tensors="pt")
    side = model.config.vision_config.image_size
    return text, torch.randn(size, 3, side, side, generator=generator(seed))


@pytest.mark.item("ex5.4")
@pytest.mark.hint(N_("normalise both, logits = logit_scale.exp() * image @ text.T, average the cross-entropy over "
                     "rows and over columns"))
@pytest.mark.parametrize("size,logit_scale", [(2, None), (4, None), (6, None), (4, 0.0), (5, math.log(1 / 0.07))],
                         ids=["2-pairs", "4-pairs", "6-pairs", "scale-0", "scale-1/0.07"])
def test_clip_loss_equals_clip_model(ex5, tiny_clip, size, logit_scale):
    model, tokenizer = tiny_clip
    text, pixels = clip_batch(model, tokenizer, size, size)
    saved = model.logit_scale.detach().clone()
    if logit_scale is not None:
        model.logit_scale.data.fill_(logit_scale)
    try:
        with torch.no_grad():
            wanted = model(**text, pixel_values=pixels, return_loss=True).loss
            image = model.get_image_features(pixel_values=pixels).pooler_output
            words = model.get_text_features(**text).pooler_output
        got = ex5.clip_loss(image, words, model.logit_scale.detach())
    finally:
        model.logit_scale.data.copy_(saved)
    expect_type(got, torch.Tensor, tr("clip_loss()'s return value"))
    expect(got.dim() == 0, tr("clip_loss() returns a 0-d tensor"), got=tuple(got.shape))
    scale = float(saved if logit_scale is None else logit_scale)
    expect_close(got, wanted, tr("CLIP loss of {size} pairs, logit_scale {scale}", size=size, scale=f"{scale:.3f}"))


def clip_model_gradients(model, text, pixels) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(embeddings, gradients): the projected image and text embeddings CLIPModel computes (the outputs
    of visual_projection and text_projection), and the gradients of its own loss with respect to them
    and to logit_scale."""
    kept = {}

    def keep(name):
        def hook(_module, _inputs, output):
            output.retain_grad()
            kept[name] = output
        return hook

    hooks = [model.visual_projection.register_forward_hook(keep("image_embeds")),
             model.text_projection.register_forward_hook(keep("text_embeds"))]
    model.zero_grad()
    try:
        model(**text, pixel_values=pixels, return_loss=True).loss.backward()
        gradients = {name: tensor.grad for name, tensor in kept.items()}
        return ({name: tensor.detach() for name, tensor in kept.items()},
                {**gradients, "logit_scale": model.logit_scale.grad.clone()})
    finally:
        for hook in hooks:
            hook.remove()
        model.zero_grad()


@pytest.mark.item("ex5.4")
@pytest.mark.hint(N_("keep every step a tensor operation on the inputs (logit_scale.exp(), not "
                     "math.exp(logit_scale.item())), so that backward() reaches all three"))
def test_clip_loss_gradients_equal_clip_models(ex5, target, tiny_clip):
    """Backward through your loss gives CLIPModel's gradients with respect to both embeddings and logit_scale."""
    model, tokenizer = tiny_clip
    text, pixels = clip_batch(model, tokenizer, 4, 11)
    embeds, wanted = clip_model_gradients(model, text, pixels)
    # The graph stays in the learner process: the loss is differentiated there (an observation).
    names = ("image_embeds", "text_embeds", "logit_scale")
    inputs = [embeds["image_embeds"], embeds["text_embeds"], model.logit_scale.detach()]
    got = target.recipe("gradients", ex5.clip_loss, [tensor.clone().requires_grad_(True) for tensor in inputs], {})
    expect_type(got["value"], torch.Tensor, tr("clip_loss()'s return value"))
    expect(got["differentiable"], tr("the loss must be differentiable (keep everything a tensor, no .item())"))
    gradients = dict(zip(names, got["arguments"]))
    expect(gradients["logit_scale"] is not None and float(gradients["logit_scale"].abs()) > 0,
           tr("the gradient must reach logit_scale"),
           hint=tr("use logit_scale.exp() on the tensor, not math.exp(logit_scale.item())"))
    for name in names:
        expect(gradients[name] is not None, tr("the gradient must reach {name}", name=name))
        expect_close(gradients[name], wanted[name], tr("gradient of {name}", name=name), atol=1e-5)


# ---------------------------------------------------------------- ex5.5 RoPE


@pytest.fixture(scope="module")
def qwen2_rotary(tiny_qwen2):
    model, _tokenizer = tiny_qwen2
    return model.model.rotary_emb, model.config


def qwen2_rope(rotary, x, positions):
    from transformers.models.qwen2.modeling_qwen2 import apply_rotary_pos_emb

    cos, sin = rotary(x, positions[None, :])
    rotated, _ = apply_rotary_pos_emb(x, x, cos, sin)
    return rotated


def paper_base_rotary(head_dim: int):
    """A Qwen2 rotary embedding with the paper's base, theta = 10000."""
    from transformers import Qwen2Config
    from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding

    config = Qwen2Config(hidden_size=2 * head_dim, num_attention_heads=2,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    return Qwen2RotaryEmbedding(config)


# Qwen2's inverse frequencies (1 / theta ** (arange(0, d, 2) / d)) and theta ** (-2i / d) differ
# in the last bit, and the angle grows with the position: at positions below 612 a correct
# answer lands at most 1.0e-5 away (docs/measurements/ex5.md). 1e-4 keeps every way of writing them.
ROPE_ATOL = 1e-4


@pytest.mark.item("ex5.5")
@pytest.mark.hint(N_("half-split pairs (i, i + d/2) with omega_i = theta ** (-2i/d), rotated by position * omega_i"))
@PROPERTY_SETTINGS
@given(start=st.integers(0, 500), length=st.integers(1, 12), batch=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_rope_matches_qwen2_rotary_embedding(ex5, qwen2_rotary, start, length, batch, seed):
    rotary, config = qwen2_rotary
    heads, head_dim = config.num_attention_heads, config.hidden_size // config.num_attention_heads
    x = torch.randn(batch, heads, length, head_dim, generator=generator(seed))
    positions = torch.arange(start, start + length)
    with torch.no_grad():
        wanted = qwen2_rope(rotary, x, positions)
    got = ex5.apply_rope(x, positions, theta=config.rope_parameters["rope_theta"])
    expect_close(got, wanted, tr("RoPE at positions {first}..{last} vs the tiny Qwen2's rotary embedding",
                                 first=start, last=start + length - 1), atol=ROPE_ATOL)


@pytest.mark.item("ex5.5")
@pytest.mark.hint(N_("use the positions you are given, not 0..seq-1, and the default theta=10000"))
def test_rope_matches_at_the_paper_base(ex5):
    """theta = 10000 (the paper's base) through a Qwen2 rotary embedding configured with it."""
    x = torch.randn(1, 2, 9, 32, generator=generator(5))
    positions = torch.tensor([0, 1, 2, 3, 7, 8, 30, 31, 100])
    with torch.no_grad():
        wanted = qwen2_rope(paper_base_rotary(32), x, positions)
    expect_close(ex5.apply_rope(x, positions), wanted, tr("RoPE with theta=10000 at uneven positions"),
                 atol=ROPE_ATOL)


@pytest.mark.item("ex5.5")
@pytest.mark.hint(N_("each pair must be rotated (cos on the feature itself, sin on its partner with opposite signs)"))
@PROPERTY_SETTINGS
@given(head_dim=st.sampled_from([2, 8, 16, 64]), m=st.integers(0, 200), n=st.integers(0, 200),
       shift=st.integers(-100, 100), seed=st.integers(0, 2**16))
def test_rope_scores_depend_only_on_relative_position(ex5, head_dim, m, n, shift, seed):
    """<RoPE(q, m), RoPE(k, n)> = <RoPE(q, m + s), RoPE(k, n + s)>, and rotations keep lengths."""
    if min(m, n) + shift < 0:
        shift = -min(m, n)
    g = generator(seed)
    q, k = torch.randn(head_dim, generator=g, dtype=torch.float64), torch.randn(head_dim, generator=g,
                                                                                 dtype=torch.float64)

    def rope(v, position):
        out = ex5.apply_rope(v[None, :].float(), torch.tensor([position]))
        expect_type(out, torch.Tensor, tr("apply_rope()'s return value"))
        return out[0].double()

    score = float(rope(q, m) @ rope(k, n))
    shifted = float(rope(q, m + shift) @ rope(k, n + shift))
    scale = float(q.norm() * k.norm())
    expect(abs(score - shifted) <= 1e-4 * scale,
           tr("<RoPE(q, {m}), RoPE(k, {n})> vs the same pair moved by {shift}", m=m, n=n, shift=shift),
           expected=round(score, 5), got=round(shifted, 5))
    length = float(rope(q, m).norm())
    expect(abs(length - float(q.norm())) <= 1e-4 * float(q.norm()), tr("RoPE keeps the vector's length"),
           expected=round(float(q.norm()), 5), got=round(length, 5))


# Positions a bfloat16 angle gets wrong: above 256 bfloat16 cannot hold every integer (1001 is
# stored as 1000), so its angles are off by up to several radians. A correct answer in bfloat16
# lands at most 0.019 from the float32 rotation of the same input (docs/measurements/ex5.md).
BF16_POSITIONS = [0, 1, 2, 255, 257, 1001, 1999, 4097, 10001, 32767]
BF16_ATOL = 0.1


@pytest.mark.item("ex5.5")
@pytest.mark.hint(N_("compute the angles positions * omega in float32 whatever x's dtype (positions.float(), omega "
                     "in float32), rotate, and return x's dtype"))
def test_rope_keeps_dtype_and_computes_angles_in_float32(ex5):
    x = torch.randn(2, 3, len(BF16_POSITIONS), 8, generator=generator(9)).bfloat16()
    positions = torch.tensor(BF16_POSITIONS)
    half = ex5.apply_rope(x, positions)
    expect_type(half, torch.Tensor, tr("apply_rope()'s return value"))
    expect(half.dtype == torch.bfloat16, tr("apply_rope() returns x's dtype"), expected=torch.bfloat16, got=half.dtype)
    with torch.no_grad():
        wanted = qwen2_rope(paper_base_rotary(8), x.float(), positions)
    expect_close(half.float(), wanted, tr("bfloat16 RoPE at positions up to {last} vs the float32 rotation of the "
                                          "same input", last=max(BF16_POSITIONS)), atol=BF16_ATOL)


# ---------------------------------------------------------------- ex5.6 LoRA


class Holder(nn.Module):
    """A model with one linear layer called `proj`, for peft's target_modules."""

    def __init__(self, proj: nn.Linear):
        super().__init__()
        self.proj = proj

    def forward(self, x):
        return self.proj(x)


def peft_lora(base: nn.Linear, r: int, alpha: float, lora_a: torch.Tensor, lora_b: torch.Tensor):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(Holder(copy.deepcopy(base)), LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"],
                                                                    lora_dropout=0.0))
    with torch.no_grad():
        model.base_model.model.proj.lora_A["default"].weight.copy_(lora_a)
        model.base_model.model.proj.lora_B["default"].weight.copy_(lora_b)
    return model.eval()


def described(value: object) -> str:
    """A value's class for a message; a learner object's as the learner process reports it."""
    return value.dlgrade_type.rpartition(".")[2] if isinstance(value, Handle) else type(value).__name__


def learner_linear(base: nn.Linear) -> Recipe:
    """A copy of `base` built in the learner process, for learner code to hold."""
    return Recipe("module", "torch.nn.Linear", base.in_features, base.out_features, bias=base.bias is not None,
                  state={name: tensor.detach().clone() for name, tensor in base.state_dict().items()})


def make_lora(ex5, target, base, r, alpha):
    """The learner's LoRALinear around a copy of `base`, and its parameters by name (as the learner process
    reports them: which are registered, and which require grad)."""
    layer = ex5.LoRALinear(learner_linear(base), r, alpha)
    expect(isinstance(layer, Handle) and layer.dlgrade_is("torch.nn.modules.module.Module"),
           tr("LoRALinear is an nn.Module"), got=prose(described(layer)))
    parameters = target.recipe("named_parameters", layer)
    for name, shape in (("lora_A", (r, base.in_features)), ("lora_B", (base.out_features, r))):
        expect(name in parameters, tr("layer.{name} is an nn.Parameter", name=name),
               got=prose(described(getattr(layer, name, None))))
        expect(tuple(parameters[name].shape) == shape, tr("layer.{name}'s shape", name=name), expected=shape,
               got=tuple(parameters[name].shape))
    scaling = getattr(layer, "scaling", None)
    expect(isinstance(scaling, (int, float)) and math.isclose(scaling, alpha / r),
           tr("layer.scaling with r={r}, alpha={alpha}", r=r, alpha=alpha), expected=alpha / r, got=scaling,
           hint=tr("self.scaling = alpha / r, a true division (alpha // r drops the fraction)"))
    return layer, parameters


@pytest.mark.item("ex5.6")
@pytest.mark.hint(N_("freeze base's parameters (requires_grad_(False)); lora_A random, lora_B zero, both "
                     "nn.Parameter"))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_lora_starts_as_the_base_layer_and_trains_only_a_and_b(ex5, target, bias):
    torch.manual_seed(0)
    base = nn.Linear(12, 20, bias=bias)
    layer, parameters = make_lora(ex5, target, base, 4, 8)
    expect(bool((parameters["lora_B"] == 0).all()), tr("lora_B starts at zero (LoRA, section 4.1)"),
           hint=tr("B = 0 and A random, so that B A = 0 at the start"))
    expect(bool((parameters["lora_A"] != 0).any()), tr("lora_A starts random, not zero"),
           hint=tr("nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5)) as peft does"))
    x = torch.randn(3, 7, 12)
    with torch.no_grad():
        wanted = base(x)
    expect_close(layer(x), wanted, tr("at the start the layer computes what the base layer computes"))
    trainable = sorted(name for name, parameter in parameters.items() if parameter.requires_grad)
    expect(trainable == ["lora_A", "lora_B"], tr("only lora_A and lora_B are trainable (the base is frozen)"),
           expected=["lora_A", "lora_B"], got=trainable)
    # Backward runs in the learner process, which reports the gradients (an observation).
    lora_b_gradient = target.recipe("gradients", layer, [x], {}, module=layer)["parameters"].get("lora_B")
    expect(lora_b_gradient is not None and bool(lora_b_gradient.abs().sum() > 0),
           tr("a backward pass gives lora_B a gradient"))


@pytest.mark.item("ex5.6")
@pytest.mark.hint(N_("h = base(x) + (alpha / r) * x @ A.T @ B.T; merge() returns a new nn.Linear with "
                     "W_0 + (alpha / r) * B @ A"))
# alpha 6 and 8 over r 4 and 3: scalings 1.5 and 2.67, which an integer division would cut.
@pytest.mark.parametrize("r,alpha,bias", [(4, 8, True), (2, 2, True), (8, 32, False), (1, 16, True), (4, 6, True),
                                          (3, 8, False)])
def test_lora_matches_peft_before_and_after_merge(ex5, target, r, alpha, bias):
    torch.manual_seed(r * 100 + alpha)
    base = nn.Linear(16, 10, bias=bias)
    layer, _parameters = make_lora(ex5, target, base, r, alpha)
    lora_a, lora_b = torch.randn(r, 16), torch.randn(10, r)
    layer.load_state_dict({"lora_A": lora_a, "lora_B": lora_b}, strict=False)
    oracle = peft_lora(base, r, alpha, lora_a, lora_b)
    x = torch.randn(5, 16)
    with torch.no_grad():
        wanted = oracle(x)
    got = layer(x)
    expect_close(got, wanted, tr("LoRA forward with r={r}, alpha={alpha} vs peft", r=r, alpha=alpha), atol=1e-4)
    merged = layer.merge()
    expect(isinstance(merged, Handle) and merged.dlgrade_is("torch.nn.modules.linear.Linear"),
           tr("merge() returns an nn.Linear"), got=prose(described(merged)))
    peft_merged = oracle.merge_and_unload().proj
    expect_close(merged.weight, peft_merged.weight,
                 tr("merged weight with r={r}, alpha={alpha} vs peft's merge_and_unload()", r=r, alpha=alpha),
                 atol=1e-4)
    expect_close(merged(x), wanted, tr("the merged layer computes what the LoRA layer computed"), atol=1e-4)
    expect_close(layer(x), got, tr("merge() leaves the LoRA layer as it was (return a new nn.Linear)"), atol=1e-6)


# ---------------------------------------------------------------- ex5.7 DPO


def dpo_reference(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta) -> float:
    """Eq. (7) of the DPO paper, one pair at a time in plain floats: mean of log(1 + exp(-z))."""
    total = 0.0
    for pc, pr, rc, rr in zip(policy_chosen, policy_rejected, ref_chosen, ref_rejected):
        z = beta * ((pc - rc) - (pr - rr))
        total += math.log1p(math.exp(-z)) if z > -30 else -z + math.log1p(math.exp(z))
    return total / len(policy_chosen)


DPO_CASES = {
    # policy == reference: every pair has margin 0 and loss log 2, whatever beta
    "policy-equals-reference": ([-12.0, -3.5], [-20.0, -4.0], [-12.0, -3.5], [-20.0, -4.0], 0.1),
    # chosen gained one nat, rejected lost one, beta 0.5: z = 1, loss log(1 + e^-1) = 0.3133
    "one-nat-each-way": ([-9.0], [-11.0], [-10.0], [-10.0], 0.5),
    # the policy prefers the REJECTED answer more than the reference does: loss above log 2
    "prefers-rejected": ([-15.0, -8.0, -30.0], [-5.0, -7.0, -29.0], [-10.0, -8.0, -31.0], [-10.0, -9.0, -30.0], 0.1),
    "beta-2": ([-1.0, -2.0, -3.0, -4.0], [-2.0, -2.0, -1.0, -9.0], [-1.5, -2.5, -2.0, -4.0], [-1.0, -2.0, -2.0, -8.0],
               2.0),
}


def as_logps(values, requires_grad=False) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32, requires_grad=requires_grad)


@pytest.mark.item("ex5.7")
@pytest.mark.hint(N_("-logsigmoid(beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))), "
                     "averaged over the pairs"))
@pytest.mark.parametrize("case", list(DPO_CASES))
def test_dpo_loss_closed_formula(ex5, case):
    *logps, beta = DPO_CASES[case]
    got = ex5.dpo_loss(*map(as_logps, logps), beta=beta)
    expect_type(got, torch.Tensor, tr("dpo_loss()'s return value"))
    expect(got.dim() == 0, tr("dpo_loss() returns a 0-d tensor (the mean over pairs)"), got=tuple(got.shape))
    expect_close(got, torch.tensor(dpo_reference(*logps, beta), dtype=torch.float64),
                 tr("DPO loss for the case {case} (beta={beta})", case=case, beta=beta))


@pytest.mark.item("ex5.7")
@pytest.mark.hint(N_("F.logsigmoid(z), not torch.log(torch.sigmoid(z))"))
@pytest.mark.parametrize("margin", [400.0, -400.0], ids=["chosen-far-ahead", "rejected-far-ahead"])
def test_dpo_loss_is_finite_for_large_margins(ex5, margin):
    got = ex5.dpo_loss(as_logps([margin]), as_logps([0.0]), as_logps([0.0]), as_logps([0.0]), beta=1.0)
    wanted = dpo_reference([margin], [0.0], [0.0], [0.0], 1.0)
    expect_type(got, torch.Tensor, tr("dpo_loss()'s return value"))
    expect(bool(torch.isfinite(got)), tr("the DPO loss for a margin of {margin} nats must be finite", margin=margin),
           expected=wanted, got=float(got))
    expect_close(got, torch.tensor(wanted, dtype=torch.float64),
                 tr("the DPO loss for a margin of {margin} nats", margin=margin), atol=1e-3)


@pytest.mark.item("ex5.7")
@pytest.mark.hint(N_("detach the reference log-probs; keep the policy's in the graph"))
def test_dpo_gradient_reaches_the_policy_only(ex5, target):
    *logps, beta = DPO_CASES["beta-2"]
    # Backward runs in the learner process, which reports the gradients (an observation).
    got = target.recipe("gradients", ex5.dpo_loss, [as_logps(v, requires_grad=True) for v in logps], {"beta": beta})
    expect_type(got["value"], torch.Tensor, tr("dpo_loss()'s return value"))
    expect(got["differentiable"], tr("the DPO loss must be differentiable with respect to the policy's log-probs"))
    policy_chosen, policy_rejected, ref_chosen, ref_rejected = got["arguments"]
    for name, gradient in (("reference_chosen_logps", ref_chosen), ("reference_rejected_logps", ref_rejected)):
        expect(gradient is None or not bool(gradient.any()),
               tr("no gradient may flow into {name}: the reference model is frozen", name=name), got=gradient)
    # d/dpolicy_chosen of -logsigmoid(z)/B is -beta * sigmoid(-z) / B (and the opposite for rejected)
    z = beta * ((as_logps(logps[0]) - as_logps(logps[2])) - (as_logps(logps[1]) - as_logps(logps[3])))
    slope = beta * torch.sigmoid(-z) / len(z)
    expect_close(policy_chosen, -slope, tr("gradient of the loss with respect to policy_chosen_logps"))
    expect_close(policy_rejected, slope, tr("gradient of the loss with respect to policy_rejected_logps"))


PAIRS = [("The for statement", " is used to iterate over a sequence."), ("x", " = 1"),
         ("Exceptions are raised by", " the raise statement when something goes wrong."),
         ("A class definition", " creates a new type.")]


def model_answer_logprob(model, context_ids: list[int], answer_ids: list[int]) -> float:
    """log P(answer | context) from the model's own loss: labels -100 on the context, so the loss is the
    mean negative log-likelihood of the answer's tokens (transformers shifts the labels itself)."""
    labels = torch.tensor([[-100] * len(context_ids) + answer_ids])
    with torch.no_grad():
        loss = model(input_ids=torch.tensor([context_ids + answer_ids]), labels=labels).loss
    return -float(loss) * len(answer_ids)


@pytest.mark.item("ex5.7")
@pytest.mark.hint(N_("sum log_softmax(logits[t - 1])[token t] over the answer tokens only: not the prompt, not the "
                     "padding"))
def test_sequence_logprobs_of_a_padded_batch(ex5, tiny_qwen2, learner_qwen2):
    model, tokenizer = tiny_qwen2
    rows = [(tokenizer(p)["input_ids"], tokenizer(a)["input_ids"]) for p, a in PAIRS]
    width = max(len(p) + len(a) for p, a in rows)
    pad = tokenizer.pad_token_id or 0
    input_ids = torch.tensor([p + a + [pad] * (width - len(p) - len(a)) for p, a in rows])
    attention_mask = torch.tensor([[1] * (len(p) + len(a)) + [0] * (width - len(p) - len(a)) for p, a in rows])
    prompt_lengths = torch.tensor([len(p) for p, _ in rows])
    got = ex5.sequence_logprobs(learner_qwen2[0], input_ids, attention_mask, prompt_lengths)
    expect_type(got, torch.Tensor, tr("sequence_logprobs()'s return value"))
    # The graph stays in the learner process; its requires_grad flag crosses (an observation).
    expect(got.requires_grad, tr("sequence_logprobs() must keep the graph: the policy is trained through it"),
           hint=tr("do not wrap the forward pass in torch.no_grad()"))
    wanted = torch.tensor([model_answer_logprob(model, p, a) for p, a in rows], dtype=torch.float64)
    expect_close(got, wanted, tr("log pi(answer | prompt) of a right-padded batch of {rows} rows", rows=len(rows)),
                 atol=1e-4)


# ---------------------------------------------------------------- ex5.8 few-shot answer choice

SHOTS = [("What is the capital of France?", "Paris"), ("What is 2 + 3?", "5"),
         ("Which keyword defines a function in Python?", "def")]


@pytest.mark.item("ex5.8")
@pytest.mark.hint(N_("\"Q: ...\\nA: ...\\n\\n\" per example, then \"Q: {{question}}\\nA:\" with no space after A:"))
@pytest.mark.parametrize("count", [0, 1, 3])
def test_few_shot_prompt_format(ex5, count):
    question = "Which statement leaves a loop early?"
    wanted = "".join(f"Q: {q}\nA: {a}\n\n" for q, a in SHOTS[:count]) + f"Q: {question}\nA:"
    got = ex5.few_shot_prompt(SHOTS[:count], question)
    expect_equal(got, wanted, tr("the few-shot prompt with {count} examples", count=count))


CHOICES = [
    ("Q: Which keyword defines a function in Python?\nA:", [" def", " function", " lambda expression", " class"]),
    ("Q: What is the capital of France?\nA: Paris\n\nQ: What does the for statement do?\nA:",
     [" It iterates over the items of a sequence.", " x", " It raises an exception.", " Nothing"]),
    ("The import system", [" loads modules", " is", " of the standard library and the packages"]),
]
# The model's scores per normalisation (GPT-3, section 2.4): "sum" log P(option | prompt),
# "per_token" the same over the option's token count, "unconditional" minus log P(option | answer_context).
NORMALIZATION_HINTS = {
    "sum": N_("normalization=\"sum\" (the default): the summed log-probabilities of the option's tokens, each from "
              "the logits one position before it; not the prompt's, not divided by anything"),
    "per_token": N_("normalization=\"per_token\": the summed log-probability divided by the number of the OPTION's "
                    "tokens (not characters, not the prompt's tokens)"),
    "unconditional": N_("normalization=\"unconditional\": log P(option | prompt) - log P(option | answer_context), "
                        "both sums over the option's tokens, with the answer_context you are given"),
}


def oracle_scores(model, tokenizer, prompt: str, options: list[str], normalization: str,
                  answer_context: str = "A:") -> torch.Tensor:
    scores = []
    for option in options:
        option_ids = tokenizer(option)["input_ids"]
        summed = model_answer_logprob(model, tokenizer(prompt)["input_ids"], option_ids)
        if normalization == "per_token":
            summed /= len(option_ids)
        elif normalization == "unconditional":
            summed -= model_answer_logprob(model, tokenizer(answer_context)["input_ids"], option_ids)
        scores.append(summed)
    return torch.tensor(scores, dtype=torch.float64)


@pytest.mark.item("ex5.8")
@pytest.mark.hint(N_("score each option from the model's logits on prompt ids + option ids; the normalization "
                     "decides what is done with the option's summed log-probability"))
@pytest.mark.parametrize("normalization,answer_context", [("sum", None), ("per_token", None), ("unconditional", None),
                                                          ("unconditional", "Answer:")],
                         ids=["sum-by-default", "per_token", "unconditional", "unconditional-Answer"])
@pytest.mark.parametrize("case", range(len(CHOICES)))
def test_option_logprobs_match_the_models_loss(ex5, tiny_qwen2, learner_qwen2, case, normalization, answer_context):
    model, tokenizer = tiny_qwen2
    prompt, options = CHOICES[case]
    wanted = oracle_scores(model, tokenizer, prompt, options, normalization, answer_context or "A:")
    if normalization == "sum":  # the docstring's default
        got = ex5.option_logprobs(*learner_qwen2, prompt, options)
    elif answer_context is None:
        got = ex5.option_logprobs(*learner_qwen2, prompt, options, normalization=normalization)
    else:
        got = ex5.option_logprobs(*learner_qwen2, prompt, options, normalization=normalization,
                                  answer_context=answer_context)
    expect_type(got, torch.Tensor, tr("option_logprobs()'s return value"))
    expect(got.dtype == torch.float32, tr("option_logprobs() returns float32"), expected=torch.float32, got=got.dtype)
    what = tr("option scores with normalization={normalization!r} of {count} options", normalization=normalization,
              count=len(options))
    if answer_context is not None:
        what = tr("{what}, answer_context={context!r}", what=what, context=answer_context)
    expect_close(got, wanted, what, atol=1e-4, hint=tr(NORMALIZATION_HINTS[normalization]))


@pytest.mark.item("ex5.8")
@pytest.mark.hint(N_("raise ValueError for a normalization other than \"sum\", \"per_token\" and \"unconditional\""))
@pytest.mark.parametrize("normalization", ["mean", "per-token"])
def test_option_logprobs_refuses_unknown_normalizations(ex5, learner_qwen2, normalization):
    prompt, options = CHOICES[0]
    try:
        got = ex5.option_logprobs(*learner_qwen2, prompt, options, normalization=normalization)
    except ValueError:
        return
    fail(tr("option_logprobs(normalization={normalization!r}) should raise ValueError", normalization=normalization),
         got=got)


# Found by fixtures/ex5/search_option_cases.py: the tiny Qwen2's best option is a different one under
# each normalisation ("sum" 0, "per_token" 1, "unconditional" 2), each by at least 1.59 nats.
DISAGREEING = ("Q: Which keyword defines a function in Python?\nA:",
               [" def", " Nothing", " It leaves the function and gives back a value."])
# Two equal options that score best under every normalisation, and a worse one: the first of the two wins.
TIED = ("The import system", [" is", " is", " x"])


@pytest.mark.item("ex5.8")
@pytest.mark.hint(N_("the index of the highest option_logprobs score with the same normalization and "
                     "answer_context (\"per_token\" by default), the first on a tie, as an int"))
@pytest.mark.parametrize("normalization", [None, "sum", "per_token", "unconditional"],
                         ids=["per_token-by-default", "sum", "per_token", "unconditional"])
@pytest.mark.parametrize("case", ["disagreeing", "tied"])
def test_choose_option_follows_the_normalization(ex5, tiny_qwen2, learner_qwen2, case, normalization):
    model, tokenizer = tiny_qwen2
    prompt, options = DISAGREEING if case == "disagreeing" else TIED
    scores = oracle_scores(model, tokenizer, prompt, options, normalization or "per_token")
    if normalization is None:
        choice = ex5.choose_option(*learner_qwen2, prompt, options)
    else:
        choice = ex5.choose_option(*learner_qwen2, prompt, options, normalization=normalization)
    expect(type(choice) is int, tr("choose_option() returns a Python int"), expected=prose("int"),
           got=prose(described(choice)), hint=tr("int(scores.argmax()), not the tensor itself"))
    shown = ", ".join(f"{score:.3f}" for score in scores.tolist())
    hint = None
    if case == "tied":
        hint = tr("on a tie the FIRST best option wins (torch's argmax returns the first)")
    expect_equal(choice, int(scores.argmax()),
                 tr("choose_option(normalization={normalization!r}) for options scored {scores}",
                    normalization=normalization or "per_token", scores=shown), hint=hint)


# ---------------------------------------------------------------- ex5.9 ReAct

REACT = json.loads((FIXTURES_DIR / "ex5" / "react_scenarios.json").read_text(encoding="utf-8"))
CASSETTES = FIXTURES_DIR / "cassettes" / "ex5"
FAKE_KEY = "sk-dlgrade-replay-not-a-real-key"
# What learner code that reaches past the replay server meets in the learner process.
REFUSAL = N_("the checks run offline, and your code tried to reach {host}: send every request through the "
             "client you are given")


class ToolServer:
    """The loop's two tools, run in this process and served on loopback: learner code gets functions
    that send each call here (recipe `remote_tools`), so the calls recorded are those the loop made."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.base_url = ""

    def run(self, name: str, argument: str) -> str:
        self.calls.append((name, argument))
        if name == "calculator":
            return str(eval(compile(ast.parse(argument.strip(), mode="eval"), "<calc>", "eval"),
                            {"__builtins__": {}}))
        return REACT["lookup_table"].get(argument.strip(), "not found")

    @contextmanager
    def running(self) -> Iterator[ToolServer]:
        tools = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                argument = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                try:
                    status, answer = 200, tools.run(self.path.strip("/"), argument)
                except Exception as exc:  # noqa: BLE001 - the tool's failure goes back to the loop
                    status, answer = 500, f"{type(exc).__name__}: {exc}"
                body = answer.encode()
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        with serving(Handler, "dlgrade-react-tools") as server:
            self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
            yield self


class React:
    """A check's replay server (the model's recorded replies) and tool server, and the loop run against them."""

    def __init__(self, model: ReplayServer, tools: ToolServer):
        self.model, self.tools = model, tools

    def run(self, ex5, scenario: dict):
        """(answer, error): the loop's answer, or the ReActError it raised; a request the recording does not
        hold, or any other error, fails the check."""
        client = Recipe("openai_client", api_key=FAKE_KEY, base_url=self.model.base_url(), max_retries=0)
        tools = Recipe("remote_tools", self.tools.base_url, ["calculator", "lookup"])
        try:
            answer, error = ex5.react(client, scenario["question"], tools, max_steps=scenario["max_steps"]), None
        except ex5.ReActError as exc:
            answer, error = None, exc
        except (NotImplementedError, AssertionError, LearnerProcessError):
            raise  # not started, a check's own failure or the refused network, or the learner's process ended
        except Exception as exc:  # noqa: BLE001 - learner code may raise anything
            self.expect_recorded()
            fail(tr("react() raised {error}", error=f"{type(exc).__name__}: {exc}"))
        self.expect_recorded()
        return answer, error

    def expect_recorded(self) -> None:
        """Every request the server received had a recorded answer (whatever learner code did with the error)."""
        if self.model.unmatched:
            fail(tr("a request the recorded conversation does not contain: {why}", why=self.model.unmatched[0].why_not))


@pytest.fixture
def react(request: pytest.FixtureRequest, ex5: LearnerModule, target: Target) -> Iterator[React]:
    model = ReplayServer(CASSETTES / f"react_{request.node.callspec.params['scenario']}.yaml")
    ex5.load()
    target.recipe("offline", tr(REFUSAL))
    with model.running(), ToolServer().running() as tools:
        yield React(model, tools)


def expected_calls(plan: dict) -> list[tuple[str, str]]:
    return [tuple(call) for call in plan["tool_calls"]]


@pytest.mark.item("ex5.9", weight=2)
@pytest.mark.hint(N_("one request per step; a Final Answer line ends the loop before any action of the same reply "
                     "runs; otherwise run the LAST Action line's tool and send its Observation"))
@pytest.mark.parametrize("scenario", ["two_tools", "hours_in_a_leap_year", "answer_at_once", "action_and_final_answer",
                                      "two_actions"])
def test_react_stops_at_the_final_answer(ex5, react, scenario):
    plan = REACT["scenarios"][scenario]
    answer, error = react.run(ex5, plan)
    expect(error is None, tr("react() raised ReActError on a well-formed conversation"), got=str(error))
    expect_equal(answer, plan["answer"], tr("the final answer of {scenario!r}", scenario=scenario),
                 hint=tr("return the text after \"Final Answer:\", stripped"))
    expect_equal(len(react.model.received), len(plan["replies"]), tr("requests sent to the model"))
    expect_equal(react.tools.calls, expected_calls(plan),
                 tr("the tools run for {scenario!r} (name, argument between the brackets)", scenario=scenario))


@pytest.mark.item("ex5.9")
@pytest.mark.hint(N_("only \"Action: name[argument]\" with a known tool name is run; anything else raises "
                     "ReActError at once; no final answer after max_steps requests raises it too"))
@pytest.mark.parametrize("scenario", ["unknown_tool", "action_without_brackets", "never_final"])
def test_react_refuses_malformed_actions_and_endless_loops(ex5, react, scenario):
    plan = REACT["scenarios"][scenario]
    answer, error = react.run(ex5, plan)
    expect(error is not None, tr("react() must raise ReActError for the conversation {scenario!r}", scenario=scenario),
           got=answer)
    expect_equal(len(react.model.received), len(plan["replies"]), tr("requests sent to the model before giving up"))
    expect_equal(react.tools.calls, expected_calls(plan),
                 tr("the tools run for {scenario!r} (name, argument between the brackets)", scenario=scenario))


ARITHMETIC = st.recursive(
    st.one_of(st.integers(0, 1000).map(str), st.floats(0, 100, allow_nan=False).map(lambda f: f"{f:.3f}")),
    lambda inner: st.one_of(st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(" ".join),
                            inner.map(lambda e: f"({e})"), inner.map(lambda e: f"-{e}")),
    max_leaves=6)


@pytest.mark.item("ex5.9")
@pytest.mark.hint(N_("evaluate the tree with Python's own operators and return str() of the result, unformatted "
                     "(str(212.0) is '212.0', str(0.1 + 0.2) is '0.30000000000000004')"))
@PROPERTY_SETTINGS
@given(expression=ARITHMETIC)
def test_calculator_evaluates_arithmetic(ex5, expression):
    try:
        wanted = str(eval(expression, {"__builtins__": {}}))
    except ZeroDivisionError:
        return
    expect_equal(ex5.calculator(expression), wanted, tr("calculator({expression!r})", expression=expression))


@pytest.mark.item("ex5.9")
@pytest.mark.hint(N_("evaluate the operators as Python does (/ true division, // floor division, % remainder, "
                     "** power, unary + and -) and return str() of the result"))
@pytest.mark.parametrize("expression,wanted", [("2 ** 10", "1024"), ("7 // 2", "3"), ("7 % 4", "3"), ("7 / 2", "3.5"),
                                               ("-(3 - 5) * +2", "4"), ("1.5 * 2", "3.0")])
def test_calculator_operators(ex5, expression, wanted):
    expect_equal(ex5.calculator(expression), wanted, tr("calculator({expression!r})", expression=expression))


@pytest.mark.item("ex5.9")
@pytest.mark.hint(N_("never eval() what a model wrote: walk ast.parse(expression, mode=\"eval\") yourself and accept "
                     "only int and float constants (type(value) in (int, float): True is an int to isinstance, 1j "
                     "is a complex)"))
@pytest.mark.parametrize("expression", ["__import__('os').getpid()", "open('/etc/passwd').read()", "x + 1",
                                        "(1).__class__", "'ab' * 3", "2 < 3", "[1, 2]", "True + 1", "1j * 1j",
                                        "None"])
def test_calculator_refuses_what_is_not_arithmetic(ex5, expression):
    try:
        result = ex5.calculator(expression)
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(tr("calculator({expression!r}) should raise ValueError", expression=expression),
             got=prose(f"{type(exc).__name__}: {exc}"))
    fail(tr("calculator({expression!r}) should raise ValueError", expression=expression), got=result)
