"""练习 3：通过 OpenAI API 使用 gpt-4o。

每个函数都接收一个 `openai.OpenAI` 客户端，并且只通过这个客户端发送请求：同一份代码既能用你的
密钥访问真实的 API，也能在检查时回放录制好的回答。不要在这些函数里另建客户端。

API 的错误（`openai.APIError`：密钥不对、所在地区不提供服务、重试之后仍然限流）要原样传给调用者：
调用者拿到的是 openai 自己的异常（例如 `openai.AuthenticationError`）。不要捕获它然后返回空答案
（那样会掩盖出错的原因），也不要把它换成别的异常（例如 `GroundingError`）。采样和长度设置
（`temperature`、`top_p`、`seed`、`max_tokens` 等）以及图片部分的 `detail`（模型看图的精细程度）
由你决定；模型、消息和图片不能改。

运行检查：`pytest checks/test_ex3.py`（先运行一次 `dlgrade lang zh`，之后所有提示都是中文）。

English:
Exercise 3: gpt-4o through the OpenAI API.

Every function takes an `openai.OpenAI` client and sends its requests through that client, so
the same code runs against the real API (with your key) and against the recorded answers the
checks replay. Do not make a client of your own inside these functions.

Errors from the API (`openai.APIError`: a wrong key, a region the API does not serve, a rate
limit still there after the retries) propagate to the caller unchanged: the caller gets openai's
own exception (e.g. `openai.AuthenticationError`). Never catch them and return an empty answer,
which hides what went wrong, and never turn them into another exception (such as
`GroundingError`). Sampling and length settings (`temperature`, `top_p`, `seed`, `max_tokens`,
...) and an image part's `detail` (how closely the model looks) are yours to choose; the model,
the messages and the images are not.

Run the checks: `pytest checks/test_ex3.py` (run `dlgrade lang zh` once for Chinese hints from then on).
"""
from __future__ import annotations

import base64
import json
import mimetypes
import os
from pathlib import Path

import openai
from PIL import Image, ImageDraw

MODEL = "gpt-4o"

# locate_object() 必须要求的框格式。gpt-4o 最可靠的回答是归一化到 0..1000 的整数坐标（与图片大小无关），x 在 y 前。
# The box format locate_object() must ask for. gpt-4o answers most reliably with integer
# coordinates normalised to 0..1000 (independent of the image's size), x before y.
BOX_SCHEMA = {
    "type": "object",
    "properties": {
        "found": {"type": "boolean", "description": "whether the object is in the image"},
        "box_2d": {
            "type": "array",
            "description": "[x_min, y_min, x_max, y_max], integers normalised to 0..1000",
            "items": {"type": "integer"},
        },
    },
    "required": ["found", "box_2d"],
    "additionalProperties": False,
}
BOX_SCALE = 1000


class MissingAPIKeyError(RuntimeError):
    """没有传入 API 密钥，环境变量 `OPENAI_API_KEY` 也没有设置（或为空）。

    English:
    No API key was given and `OPENAI_API_KEY` is not set (or empty).
    """


class GroundingError(ValueError):
    """模型的定位回答无法变成一个框（模型拒绝、JSON 不合格、没有找到物体）。只用于模型的回答，不用于 API 错误。

    English:
    The model's grounding answer cannot be turned into a box (refusal, bad JSON, not found).
    Only for the model's answer, never for an API error.
    """


def make_client(api_key: str | None = None, *, base_url: str | None = None) -> openai.OpenAI:
    """返回一个配置好的 `openai.OpenAI` 客户端，供下面的函数使用。

    参数：
        api_key：要用的密钥（优先于 `OPENAI_API_KEY`）；为 `None` 时，在调用 make_client() 的那一刻
            读取环境变量 `OPENAI_API_KEY`（不要在导入模块时就读好存起来）。
        base_url：客户端发送请求的 OpenAI 兼容地址（例如实验室的代理）；`None` 表示官方 API。

    返回：
        使用这个密钥和地址的客户端，并且客户端自己会把临时错误（HTTP 429 限流、5xx）至少重试两次
        （`max_retries` >= 2）。在你自己的函数里写重试循环不算：客户端本身要重试。

    异常：
        `MissingAPIKeyError`：没有传入密钥、`OPENAI_API_KEY` 也没有设置或为空时，在发出任何请求之前
            由你自己抛出（openai 自己的缺少密钥错误不是 `MissingAPIKeyError`）。不要退而使用占位密钥：
            那样第一次请求才会失败，还是一个让人困惑的 401。

    English:
    Return an `openai.OpenAI` client ready for the calls below.

    Args:
        api_key: the key to use (it wins over `OPENAI_API_KEY`); when `None`, read the
            `OPENAI_API_KEY` environment variable when make_client() is called (not once when
            the module is imported).
        base_url: an OpenAI-compatible endpoint (a lab proxy) the client sends its requests
            to; `None` means the official API.

    Returns:
        A client with that key and base URL that itself retries transient errors (HTTP 429
        rate limits, 5xx) at least twice (`max_retries` >= 2). A retry loop in your own
        functions does not count: the client must retry.

    Raises:
        `MissingAPIKeyError`: raised by you, before any request, when no key is given and
            `OPENAI_API_KEY` is unset or empty (openai's own error for a missing key is not a
            `MissingAPIKeyError`). Never fall back to a placeholder key: the first request
            would fail later with a confusing 401.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def complete_text(client: openai.OpenAI, prompt: str, *, model: str = MODEL) -> str:
    """通过 Chat Completions API 生成一次文本。

    把 `prompt` 作为唯一一条用户消息发给 `model`（不加系统消息），返回第一个 choice 的文本
    （一个 `str`，不是响应对象）。API 错误原样传出。

    English:
    One text generation through the Chat Completions API.

    Send `prompt` as the single user message to `model` (no system message) and return the
    text of the first choice (a `str`, not the response object). API errors propagate.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def respond_text(client: openai.OpenAI, prompt: str, *, model: str = MODEL) -> str:
    """通过 Responses API（`client.responses.create`）做同样的生成。

    把 `prompt` 作为输入发送（不加 `instructions=`），返回响应的文本（`str`）。API 错误原样传出。

    English:
    The same generation through the Responses API (`client.responses.create`).

    Send `prompt` as the input (no `instructions=`) and return the response's text (a `str`).
    API errors propagate.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def image_data_url(image_path: str | Path) -> str:
    """把图片文件变成 `data:` URL：`data:<mime type>;base64,<the file's bytes>`（文件字节的 base64）。

    API 读不到你磁盘上的文件：图片要放进请求里。MIME 类型由文件名决定（`.png` 是 `image/png`，
    `.jpg` 是 `image/jpeg`）。

    English:
    Return the image file as a `data:` URL: `data:<mime type>;base64,<the file's bytes>`.

    The API cannot read files on your disk: images go inside the request. The MIME type
    follows the file name (`image/png` for `.png`, `image/jpeg` for `.jpg`).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def ask_about_image(client: openai.OpenAI, image_path: str | Path, question: str, *, model: str = MODEL) -> str:
    """通过 Chat Completions 向 `model` 提一个关于本地图片的问题。

    发送一条用户消息，内容分两部分：先是问题（text 部分），再是图片（`image_url` 部分，放
    `image_path` 的 data URL）。返回回答的文本。API 错误原样传出。

    English:
    Ask `model` a question about a local image through Chat Completions.

    Send one user message whose content has two parts: the question as a text part, then
    the image as an `image_url` part holding the data URL of `image_path`. Return the
    answer's text. API errors propagate.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def respond_about_image(client: openai.OpenAI, image_path: str | Path, question: str, *, model: str = MODEL) -> str:
    """通过 Responses API 问同一个问题。

    一条用户输入，内容先是 `input_text` 部分（问题），再是 `input_image` 部分（data URL）。
    返回响应的文本。API 错误原样传出。

    English:
    The same question through the Responses API.

    One user input item whose content is an `input_text` part (the question) then an
    `input_image` part (the data URL). Return the response's text. API errors propagate.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def parse_box(answer: str | None, width: int, height: int) -> tuple[int, int, int, int]:
    """把模型的 JSON 回答变成原图上以像素为单位的框。

    参数：
        answer：消息内容，符合 `BOX_SCHEMA` 的 JSON：
            `{"found": bool, "box_2d": [x_min, y_min, x_max, y_max]}`，坐标归一化到 0..1000
            （模型可能略微超出 0..1000，也可能给出小数）。
        width, height：原图的宽和高（像素）。

    返回：
        像素坐标 `(x_min, y_min, x_max, y_max)`：四个 `int`，x 按宽度缩放，y 按高度缩放
        （`x * width / 1000`），再四舍五入到最近的整数（不能用 `int()` 截断，也不能用 `math.floor` /
        `math.ceil`），最后把 x 限制在 0..width、y 限制在 0..height。tuple 或 list 都可以。

    异常：
        `GroundingError`：回答为空、不是 JSON（普通文字，哪怕里面有数字）、形状不符合 `BOX_SCHEMA`、
            说没有找到物体（`"found": false`），或者 x_max <= x_min、y_max <= y_min。

    English:
    Turn the model's JSON answer into a box in pixels of the original image.

    Args:
        answer: the message content, JSON following `BOX_SCHEMA`:
            `{"found": bool, "box_2d": [x_min, y_min, x_max, y_max]}` with coordinates
            normalised to 0..1000 (a model may answer a little outside 0..1000, or with floats).
        width, height: the original image's size in pixels.

    Returns:
        `(x_min, y_min, x_max, y_max)` in pixels: four `int`s, x scaled with the width and y
        with the height (`x * width / 1000`), then rounded to the nearest integer (not cut
        with `int()`, nor `math.floor` / `math.ceil`), then clipped to 0..width and
        0..height. A tuple or a list.

    Raises:
        `GroundingError`: the answer is empty, not JSON (prose, even prose with numbers in
            it), not shaped like `BOX_SCHEMA`, says the object was not found
            (`"found": false`), or has x_max <= x_min or y_max <= y_min.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def locate_object(client: openai.OpenAI, image_path: str | Path, object_name: str, *,
                  model: str = MODEL) -> tuple[int, int, int, int]:
    """问 `model` 图中的 `object_name` 在哪里；返回它的像素框。

    通过 Chat Completions 发送图片（data URL）和一句指令：指令要说出 `object_name`（只说这一个物体，
    不提图中其他物体），并要求给出它的边界框；同时要求结构化输出：`response_format` 的类型为
    `"json_schema"`，其 json_schema 里有 `"schema": BOX_SCHEMA` 和 `"strict": True`（不加 strict，
    模型可能不按 schema 回答）。然后用 parse_box() 换算回答（宽高取图片自己的尺寸）。

    异常：
        `GroundingError`：模型拒绝了（`message.refusal` 有内容；异常信息里要带上这段拒绝的原文，
            让调用者知道原因），或者 parse_box() 失败。
        `openai.APIError`：API 本身出错；原样传出，不要换成 `GroundingError`。

    English:
    Ask `model` where `object_name` is in the image; return its box in pixels.

    Send, through Chat Completions, the image (data URL) with an instruction that names
    `object_name` (that object only, no other object of the image) and asks for its bounding
    box, and ask for structured output: `response_format` of type `"json_schema"` whose
    json_schema has `"schema": BOX_SCHEMA` and `"strict": True` (without strict the model may
    leave the schema). Then convert the answer with parse_box() (the image's own width and
    height).

    Raises:
        `GroundingError`: the model refused (`message.refusal` is set; the exception's message
            carries that refusal text, so the caller sees why), or parse_box() failed.
        `openai.APIError`: the API itself failed; let it propagate, never as a
            `GroundingError`.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def draw_box(image_path: str | Path, box: tuple[int, int, int, int], out_path: str | Path,
             *, color: tuple[int, int, int] = (255, 0, 0), line_width: int = 4) -> Image.Image:
    """在图片上把 `box`（像素，x_min, y_min, x_max, y_max）画成矩形边框。

    边框的颜色是 `color`，线宽是 `line_width` 像素（每条边的线正好这么粗）。结果（RGB，尺寸与原图相同）
    保存到 `out_path` 并返回（一个 `PIL.Image.Image`）。只画边框：框里面保持原样。

    English:
    Draw `box` (pixels, x_min, y_min, x_max, y_max) as a rectangle outline on the image.

    The outline is drawn in `color`, `line_width` pixels thick (each side's line exactly that
    thick). Save the result (RGB, same size as the input) to `out_path` and return it (a
    `PIL.Image.Image`). Only the outline is drawn: the inside of the box stays as it was.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")
