"""Recipes of exercise 5's checks: inputs built, and what only the learner process can see observed there.

A tensor crosses the boundary as its values (and its `requires_grad` flag), never with its graph, and a
learner function's changes to its arguments stay in the learner process's copies. Where a check must know
where gradients flow or whether an argument was changed in place, a recipe here calls the learner's
function in the learner process and reports it: an observation a targeted forgery could fake. Checks
use these only where no oracle computed from returned values can tell (a value right, its graph wrong).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlgrade.boundary.recipes import recipe

TOOL_TIMEOUT_S = 30.0


@recipe
def seeded_generator(seed: int) -> Any:
    """`torch.Generator().manual_seed(seed)`: a generator handed to learner code."""
    import torch
    return torch.Generator().manual_seed(seed)


@recipe
def call_keeping_arguments(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """`function(*args, **kwargs)`'s value, and the positional arguments as they are after the call (what
    the function changed in place)."""
    return {"value": function(*args, **kwargs), "arguments": args}


@recipe
def gradients(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
              module: Any = None) -> dict[str, Any]:
    """Call `function(*args, **kwargs)` (tensors sent with requires_grad are leaves here) and run backward
    on the sum of its value when it carries a graph. Returns the value, whether it carries a graph
    (`differentiable`), the gradient of each positional tensor argument (`arguments`, None where none
    arrived), and of `module`'s parameters those that received one (`parameters`, by name; the module's
    gradients are cleared before the call)."""
    import torch
    if module is not None:
        module.zero_grad(set_to_none=True)
    value = function(*args, **kwargs)
    differentiable = isinstance(value, torch.Tensor) and value.requires_grad
    if differentiable:
        value.sum().backward()
    return {"value": value, "differentiable": differentiable,
            "arguments": [arg.grad if isinstance(arg, torch.Tensor) else None for arg in args],
            "parameters": {} if module is None else
            {name: p.grad for name, p in module.named_parameters() if p.grad is not None}}


@recipe
def named_parameters(module: Any) -> dict[str, Any]:
    """A module's parameters by name (what `named_parameters()` registers), each with its requires_grad flag."""
    return dict(module.named_parameters())


@recipe
def remote_tools(base_url: str, names: list[str]) -> dict[str, Callable[[str], str]]:
    """A ReAct loop's tools, as learner code calls them: `name -> function(argument) -> str`. Each call is
    sent to the tool server at `base_url` (a loopback server in the checks' process, which runs the tool
    and counts the call) and returns its answer; a tool that failed there raises ValueError here."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(base_url)

    def tool(name: str) -> Callable[[str], str]:
        def call(argument: str) -> str:
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TOOL_TIMEOUT_S)
            try:
                connection.request("POST", f"{address.path.rstrip('/')}/{name}", body=str(argument).encode())
                answer = connection.getresponse()
                text = answer.read().decode()
            finally:
                connection.close()
            if answer.status != 200:
                raise ValueError(text)
            return text
        call.__name__ = name
        return call

    return {name: tool(name) for name in names}
