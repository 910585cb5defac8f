"""Recipes of exercise 2's checks: a causal LM and its tokenizer built in the learner process, and
observers of what the model receives there (the inputs of every generate() call; tokens, cache
length, attention mask and position ids of every forward call), reported as data.

What an observer reports is measured inside the learner process: learner code that goes around the
hook (a generate() reached through the class, a forward without the module's hooks) or rewrites the
record is not seen. The checks judge the returned tokens and scores against their own oracle first.
"""
from __future__ import annotations

from typing import Any

from dlgrade.boundary.recipes import from_pretrained, recipe


@recipe
def causal_lm(folder: str, *, device: str = "cpu", **kwargs: Any) -> tuple[Any, Any]:
    """`AutoModelForCausalLM.from_pretrained(folder, **kwargs)` (eval mode) on `device`, and the folder's
    `AutoTokenizer`: what a check hands to learner code, never one of the checks' own objects."""
    model = from_pretrained("transformers.AutoModelForCausalLM", folder, **kwargs).to(device)
    return model, from_pretrained("transformers.AutoTokenizer", folder)


class GenerateLog:
    """The positional and keyword arguments of every `model.generate()` call (the call itself goes
    through), until `stop()`."""

    def __init__(self, model: Any):
        self.model = model
        self.calls: list[dict[str, Any]] = []
        original = model.generate

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append({"args": list(args), **kwargs})
            return original(*args, **kwargs)

        model.generate = spy

    def stop(self) -> list[dict[str, Any]]:
        self.model.__dict__.pop("generate", None)
        return self.calls


@recipe
def watch_generate(model: Any) -> GenerateLog:
    """Record the arguments of `model.generate()` from now on; `generate_calls(log)` returns them."""
    return GenerateLog(model)


@recipe
def generate_calls(log: GenerateLog) -> list[dict[str, Any]]:
    """The arguments of every `generate()` call `log` saw (tensors as data, other objects as handles);
    stops watching."""
    return log.stop()


class ForwardLog:
    """What every call of a module (a causal LM's base model) receives: how many sequences, how many
    tokens each, how many tokens its cache already holds, the attention mask (None when none of the
    right shape came) and the position of every token."""

    def __init__(self, module: Any):
        self.calls: list[dict[str, Any]] = []
        self.hook = module.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        import torch
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
        if isinstance(mask, torch.Tensor) and mask.shape == (rows, cached + length):
            mask = mask.detach().long().cpu().clone()
        else:
            mask = None
        self.calls.append({"rows": rows, "length": length, "cached": cached, "mask": mask,
                           "positions": positions.detach().cpu().expand(rows, length).clone()})


@recipe
def watch_forward(model: Any) -> ForwardLog:
    """Record what every call of `model.model` (the base model under the LM head) receives from now on;
    `forward_calls(log)` returns it."""
    return ForwardLog(model.model)


@recipe
def forward_calls(log: ForwardLog) -> list[dict[str, Any]]:
    """What every forward call `log` saw, as data; stops watching."""
    log.hook.remove()
    return log.calls
