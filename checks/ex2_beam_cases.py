"""The machinery of exercise 2.5's checks (checks/test_ex2.py): generate() as the oracle, the
comparison of a learner's beam search with it, the hypothesis search over inputs and its pinned
cases, and the judgement of what every forward call of the model received.

The rules a beam search must follow are in the exercise's docstring; this module only runs the
learner's search next to generate() and says what differs. The learner's search runs in the learner
process on a model built there (`learner_model`); generate() runs here on the checks' own model,
which learner code never holds.
"""
from __future__ import annotations

import functools
import time
from collections import Counter
from contextlib import contextmanager

import torch
from hypothesis import HealthCheck, example, reject, settings
from transformers import GenerationConfig

from dlgrade.checkkit.feedback import expect, expect_equal, fail, prose, type_name
from dlgrade.core.i18n import tr

EOS_IDS = [1999, 1997]  # <|im_end|>, <|endoftext|> of the tiny model, as in Qwen2-Instruct
PROMPTS = ["The for statement", "Exceptions are", "A class definition", "The import system", "x",
           "Names refer to objects.", "What is assert?", "In a generator function, the"]
# Relative score tolerance, measured in docs/measurements/ex2.md#beam-scores.
SCORE_RTOL = 2e-5


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


def score_error(scores: torch.Tensor, wanted: torch.Tensor) -> float:
    """max |score - wanted| / max(|wanted|, 1): relative, and absolute for scores below 1 in size."""
    return ((scores - wanted).abs() / wanted.abs().clamp(min=1.0)).max().item()


def fill_id(settings_: dict) -> int | None:
    """The id generate() pads finished rows with: pad_token_id, else (missing or 0) the first EOS id."""
    eos = settings_.get("eos_token_id")
    eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
    return settings_.get("pad_token_id") or (eos[0] if eos else None)


def filler_only(seqs: torch.Tensor, wanted: torch.Tensor, fill: int) -> bool:
    """Whether every difference lies in the filler that runs from a finished row's end to the
    end of the row in generate()'s output (the hypotheses themselves agree)."""
    for got_row, wanted_row in zip(seqs, wanted):
        differs = (got_row != wanted_row).nonzero()
        if len(differs) and not bool((wanted_row[int(differs[0]):] == fill).all()):
            return False
    return True


def explain_token_difference(tokenizer, texts, settings_, seqs, wanted_seqs) -> None:
    """Fail on the first row whose tokens differ from generate()'s, saying how when it can."""
    row = next(i for i in range(len(seqs)) if seqs.shape != wanted_seqs.shape
               or not torch.equal(seqs[i].cpu(), wanted_seqs[i].cpu()))
    fill = fill_id(settings_)
    if seqs.shape == wanted_seqs.shape and fill is not None and filler_only(seqs.cpu(), wanted_seqs.cpu(), fill):
        used = seqs.cpu()[seqs.cpu() != wanted_seqs.cpu()].unique()
        if len(used) == 1:
            # Only the filler after a finished hypothesis differs: the search itself is right.
            fail(tr("rows that finished before the longest one are filled with id {got} after their end; "
                    "generate() fills them with {wanted} (pad_token_id, or the first EOS id when pad_token_id "
                    "is None or 0), with {settings}", got=int(used[0]), wanted=fill, settings=settings_),
                 expected=wanted_seqs[row].tolist(), got=seqs[row].tolist(),
                 hint=tr("fill the output after a finished hypothesis with pad_token_id; only when it is None "
                         "or 0 use the first EOS id"))
    # A length that differs is a token that differs: show the texts, not only the shapes.
    fail(tr("tokens differ from generate() for {prompt} with {settings}", prompt=repr(texts[row]), settings=settings_),
         expected=tokenizer.decode(wanted_seqs[row]), got=tokenizer.decode(seqs[row]))


def compare_beam_search(ex2, learner_model, model, tokenizer, texts, **settings_) -> tuple[float, dict]:
    """Fail on any difference from generate() (on `model`, the checks' own) in the tokens or the types of
    the learner's search (on `learner_model`, its copy in the learner process); return the scores'
    relative error."""
    input_ids, attention_mask = left_padded(tokenizer, texts)
    # The learner's call first: a stub fails before the oracle's cost, which matters while
    # hypothesis shrinks a failing example.
    result = ex2.beam_search(learner_model, input_ids, attention_mask, **settings_)
    wanted_seqs, wanted_scores = oracle_beam(model, input_ids, attention_mask, **settings_)
    expect(isinstance(result, tuple) and len(result) == 2, tr("beam_search() returns (sequences, scores)"),
           got=prose(type_name(result)))
    seqs, scores = result
    expect(isinstance(seqs, torch.Tensor) and seqs.dim() == 2 and len(seqs) == len(wanted_seqs),
           tr("sequences shape for {count} prompt(s), {settings}", count=len(texts), settings=settings_),
           expected=tuple(wanted_seqs.shape), got=tuple(seqs.shape) if isinstance(seqs, torch.Tensor) else seqs)
    expect_equal(seqs.dtype, torch.int64, tr("dtype of the sequences"),
                 hint=tr("token ids are int64 (torch.long), as input_ids are"))
    if seqs.shape != wanted_seqs.shape or not torch.equal(seqs.cpu(), wanted_seqs.cpu()):
        explain_token_difference(tokenizer, texts, settings_, seqs, wanted_seqs)
    expect(isinstance(scores, torch.Tensor), tr("the scores are a tensor, one per row"),
           got=prose(type_name(scores)))
    expect_equal(scores.dtype, torch.float32, tr("dtype of the scores"),
                 hint=tr("the docstring asks for float32 scores, as generate()'s sequences_scores"))
    scores = scores.detach().cpu()
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


def check_beam_search(ex2, learner_model, model, tokenizer, texts, **settings_) -> None:
    worst = WorstScore()
    worst.add(*compare_beam_search(ex2, learner_model, model, tokenizer, texts, **settings_))
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


def case(texts, chat, num_beams, max_new_tokens, length_penalty, early_stopping, pad_token_id, eos_token_id):
    """A tier-2 example in the strategy's terms (a row count and three prompts)."""
    return example(rows=len(texts), texts=tuple(texts) + (PROMPTS[0],) * (3 - len(texts)), chat=chat,
                   num_beams=num_beams, max_new_tokens=max_new_tokens, length_penalty=length_penalty,
                   early_stopping=early_stopping, pad_token_id=pad_token_id, eos_token_id=eos_token_id)


# Cases that tell the rules of generate() apart, each found by fixtures/ex2/search_beam_cases.py
# (how often each rule's mutant differs on random inputs: docs/measurements/ex2.md#pinned-cases).
# Hypothesis runs these first.
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
    # rows that finish early are padded with pad_token_id, not the first EOS id
    case(["The import system", "In a generator function, the"], False, 3, 6, -1.0, False, 1997, EOS_IDS),
    # scores up to -661: searched row by row (correct), one is 3.1e-5 off by float32 rounding
    case(["x", "The import system", "Exceptions are"], False, 4, 24, -1.0, False, None, [1997]),
]


def pinned(cases):
    def wrap(test):
        for pin in reversed(cases):
            test = pin(test)
        return test
    return wrap


def judge_forward_calls(calls: list[dict], prompt_mask: torch.Tensor, beams: int, new_tokens: int) -> None:
    """What the docstring asks of the forward calls (`calls`: what the recipe `forward_calls` recorded in
    the learner process): the prompt encoded once (per row or per beam),
    then one new token per live beam per step with the cache, the attention mask at every call,
    and position ids from the cumulative mask. One step more than the search needs (feeding the
    last chosen token) is wasted work, not a cache failure, and passes."""
    batch, prompt_len = prompt_mask.shape
    prompt_mask = prompt_mask.long().cpu()
    prefills = [call for call in calls if call["cached"] == 0]
    steps = [call for call in calls if call["cached"] > 0]
    expect(prefills and steps, tr("beam_search() should call model.model: the prompt first, then one call per "
                                  "new token with the cache"), got=prose(tr("{count} calls", count=len(calls))))
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
    fed = Counter()
    for call in steps:
        fed[call["cached"]] += call["rows"]
    for cached, rows in sorted(fed.items()):
        expect(rows <= batch * beams,
               tr("with {cached} tokens in the cache the model was fed {rows} sequences: the same step was fed "
                  "more than once", cached=cached, rows=rows),
               expected=prose(tr("at most {batch} x {beams} = {total}, one token per beam",
                                 batch=batch, beams=beams, total=batch * beams)), got=rows, hint=hint)
    # The prompt and max_new_tokens - 1 chosen tokens are all a search ever needs to feed; the
    # last chosen token may be fed once more (an extra step whose logits go unused).
    limit = prompt_len + new_tokens - 1
    expect(max(fed) <= limit,
           tr("a call found {cached} tokens in the cache: more than the prompt ({prompt_len}) and the "
              "max_new_tokens ({new_tokens}) tokens generated after it; tokens were fed into the cache twice",
              cached=max(fed), prompt_len=prompt_len, new_tokens=new_tokens),
           expected=prose(tr("at most {limit} cached tokens", limit=limit)), got=max(fed), hint=hint)
    check_masks(calls, prompt_mask, beams)
    for call in calls:
        real = call["mask"][:, -call["length"]:].bool()
        wanted = call["mask"].cumsum(-1)[:, -call["length"]:] - 1
        expect_equal(call["positions"][real].tolist(), wanted[real].tolist(),
                     tr("position ids the model receives for the tokens that are not padding (a call with {cached} "
                        "cached tokens)", cached=call["cached"]),
                     hint=tr("position ids come from the cumulative attention mask (cumsum - 1): a left-padded "
                             "row starts at 0 after its padding"))


def check_masks(calls: list[dict], prompt_mask: torch.Tensor, beams: int) -> None:
    """Every call gets a (sequences, cached + new) mask whose prompt part is the prompt's own
    (padding 0) and whose generated part is all 1."""
    batch, prompt_len = prompt_mask.shape
    allowed = Counter(tuple(row) for row in prompt_mask.tolist())
    by_length: dict[int, Counter] = {}
    for call in calls:
        where = tr("the prefill") if call["cached"] == 0 else \
            tr("a step after the prefill ({cached} tokens in the cache)", cached=call["cached"])
        expect(call["mask"] is not None,
               tr("{where}: the model got no attention mask of shape (sequences, cached + new tokens)", where=where),
               expected=prose(f"({call['rows']}, {call['cached'] + call['length']})"),
               hint=tr("pass attention_mask at every call: the prompt's mask (0 on padding), extended by a 1 for "
                       "each generated token; without it the model attends to the padding"))
        mask = call["mask"]
        generated = mask[:, prompt_len:]
        expect(bool((generated == 1).all()),
               tr("{where}: the attention mask hides generated tokens (0 after the prompt)", where=where),
               hint=tr("extend the mask by a 1 for each generated token"))
        counts = by_length.setdefault(call["cached"] + call["length"], Counter())
        counts.update(tuple(row) for row in mask[:, :prompt_len].tolist())
    for counts in by_length.values():
        for row, count in counts.items():
            expect(count <= beams * allowed.get(row, 0),
                   tr("the attention mask the model receives no longer matches the prompt's padding: {count} "
                      "sequences of one step had the prompt part {row}", count=count, row=list(row)),
                   expected=prose(tr("the prompt masks, one per beam: {masks}",
                                     masks=[list(r) for r in allowed])),
                   hint=tr("keep the prompt's padding masked (0) in every call; reorder or repeat the mask with "
                           "the beams, and append a 1 per generated token"))
