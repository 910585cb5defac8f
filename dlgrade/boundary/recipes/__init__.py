"""Grader-owned code that runs in the learner process: builders of inputs and observers of outputs.

A check cannot hand the learner's code one of its own objects (a model, a tokenizer): that object
would then be in reach of learner code. It sends `Recipe("from_pretrained", "transformers.X", folder)`
instead, and the learner process builds its own copy. Observers turn learner objects that are not
data (a matplotlib figure, a module) into data the check can judge. What an observer reports is
measured inside the learner process, so a targeted forgery could fake it: checks prefer oracles
computed from returned values.

The recipes of general use are in this module; those of one kind of check live in a topic module
(TOPICS), imported on first use of the registry so that importing this package does nothing more.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

REGISTRY: dict[str, Callable[..., Any]] = {}
# Topic modules of this package, each registering its recipes when imported.
TOPICS = ("training", "generation", "papers")
# Library classes a recipe may name; the learner process is the learner's anyway, this only keeps
# a typo in a check from importing something arbitrary.
ALLOWED_PREFIXES = ("transformers.", "torch.nn.", "peft.")


def registry() -> dict[str, Callable[..., Any]]:
    """Every recipe by name, the topic modules' included."""
    for topic in TOPICS:
        importlib.import_module(f"{__name__}.{topic}")
    return REGISTRY


class Recipe:
    """An input built in the learner process: `Recipe(name, *args, **kwargs)` runs REGISTRY[name] there."""

    def __init__(self, name: str, *args: Any, **kwargs: Any):
        if name not in registry():
            raise KeyError(f"no recipe named {name!r}")
        self.dlgrade_record = {"$recipe": name, "args": list(args), "kwargs": kwargs}

    def __repr__(self) -> str:
        return f"Recipe({self.dlgrade_record['$recipe']!r})"


def recipe(function: Callable[..., Any]) -> Callable[..., Any]:
    REGISTRY[function.__name__] = function
    return function


def library_class(path: str) -> Any:
    if not path.startswith(ALLOWED_PREFIXES):
        raise ValueError(f"recipes build library classes only, not {path!r}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@recipe
def from_pretrained(class_path: str, folder: str, **kwargs: Any) -> Any:
    """`transformers.X.from_pretrained(folder, **kwargs)`, in eval mode when it is a model."""
    obj = library_class(class_path).from_pretrained(folder, **kwargs)
    return obj.eval() if hasattr(obj, "eval") else obj


@recipe
def module(class_path: str, *args: Any, state: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A torch.nn module built from its constructor arguments, with the given weights loaded."""
    built = library_class(class_path)(*args, **kwargs)
    if state is not None:
        built.load_state_dict(state)
    return built


@recipe
def state_dict(model: Any) -> dict[str, Any]:
    """A module's parameters and buffers, as tensors."""
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


@recipe
def openai_client(**kwargs: Any) -> Any:
    """`openai.OpenAI(**kwargs)`: the client a check hands to learner code (its base_url a replay server)."""
    import openai
    return openai.OpenAI(**kwargs)


@recipe
def environ(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set environment variables of the learner process (None unsets one); returns their previous values.

    The learner process has an environment of its own: a check that changes its own `os.environ`
    changes nothing that learner code reads.
    """
    import os
    previous = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return previous


@recipe
def text(obj: Any) -> str:
    """`str(obj)` of a learner object (an observation: a URL object, a path)."""
    return str(obj)


def run(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A recipe's result in the learner process (an input a `Recipe` names, or an observation)."""
    recipes = registry()
    if name not in recipes:
        raise KeyError(f"no recipe named {name!r}")
    return recipes[name](*args, **kwargs)



class RemoteHostRefused(AssertionError):
    """A connection to another machine, refused (`refuse_remote_hosts`).

    An AssertionError, not an OSError: huggingface_hub and httpx take an OSError for "offline", retry
    for ~23 s and lose the message; an AssertionError passes through them and transformers'
    from_pretrained unchanged and at once.
    """


def is_local(host: object) -> bool:
    """Whether a host names this machine (None, localhost, a loopback address)."""
    import ipaddress
    if host is None or (isinstance(host, str) and host.lower() == "localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host)).is_loopback
    except ValueError:
        return False


def refuse_remote_hosts(refuse: Callable[[object], None]) -> Callable[[], None]:
    """Resolving or connecting to any host but this machine calls `refuse(host)` (which raises) in this
    process from now on; returns the function that puts the socket module back."""
    import socket
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        if not is_local(host):
            refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and not is_local(address[0]):
                refuse(address[0])
            return real(self, address)
        return connect

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect, socket.socket.connect_ex = guarded(real_connect), guarded(real_connect_ex)  # type: ignore[method-assign]

    def restore() -> None:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]
    return restore


_REFUSAL: dict[str, str] = {}


@recipe
def offline(refusal: str) -> None:
    """From now on the learner process refuses every host but this machine: RemoteHostRefused, its text
    `refusal` (the check's message, in the learner's language) with `{host}` filled in.

    A courtesy, not a guard (the process is the learner's): a call that bypasses the server it was given
    (a hub endpoint, an API base URL) fails at once and says why, instead of reaching for the real service.
    The process serves every check file of a session: each sets its own text before its checks; a second
    call changes only the text.
    """
    if not _REFUSAL:
        def refuse(host: object) -> None:
            raise RemoteHostRefused(_REFUSAL["text"].format(host=host))
        refuse_remote_hosts(refuse)
    _REFUSAL["text"] = refusal


@recipe
def torch_threads(count: int) -> None:
    """`torch.set_num_threads(count)` in the learner process (checks run single-threaded: docs/pitfalls.md)."""
    import torch
    torch.set_num_threads(count)


@recipe
def figure_images(figure: Any) -> list[Any]:
    """The data of every image-like artist of a matplotlib figure, as float64 arrays (masked values NaN):
    imshow/matshow images, pcolormesh/pcolor meshes (any collection with an array), figimage images."""
    import numpy as np
    artists = [artist for ax in figure.axes for artist in (*ax.get_images(), *ax.collections)] + list(figure.images)
    arrays = []
    for artist in artists:
        data = artist.get_array()
        if data is not None:
            arrays.append(np.ma.filled(np.ma.asarray(data, dtype=np.float64), np.nan))
    return arrays


@recipe
def figure_lines(figure: Any) -> list[dict[str, Any]]:
    """What each axis of a matplotlib figure draws as lines, and how it names them: per axis its title, y
    label, legend texts (None without a legend), and every line's label with its x and y data as float64
    arrays (masked values NaN)."""
    import numpy as np

    def values(data: Any) -> Any:
        return np.ma.filled(np.ma.asarray(data, dtype=np.float64), np.nan)

    axes = []
    for ax in figure.axes:
        legend = ax.get_legend()
        axes.append({"title": ax.get_title(), "ylabel": ax.get_ylabel(),
                     "legend": None if legend is None else [text.get_text() for text in legend.get_texts()],
                     "lines": [{"label": str(line.get_label()), "x": values(line.get_xdata()),
                                "y": values(line.get_ydata())} for line in ax.get_lines()]})
    return axes


@recipe
def close_figure(figure: Any) -> None:
    """`pyplot.close(figure)`: a check's figures do not pile up in the learner process."""
    import matplotlib.pyplot as plt
    plt.close(figure)
