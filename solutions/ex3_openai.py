"""Exercise 3: gpt-4o through the OpenAI API.

Every function takes an `openai.OpenAI` client and sends its requests through that client, so
the same code runs against the real API (with your key) and against the recorded answers the
checks replay. Do not make a client of your own inside these functions.

Errors from the API (`openai.APIError`: a wrong key, a region the API does not serve, a rate
limit still there after the retries) propagate to the caller: never catch them and return an
empty answer, which hides what went wrong. Sampling and length settings (temperature, top_p,
seed, max_tokens, ...) are yours to choose; the model, the messages and the images are not.

Run the checks: `pytest checks/test_ex3.py` (add `--lang zh` for Chinese hints).
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
    """No API key was given and OPENAI_API_KEY is not set."""


class GroundingError(ValueError):
    """The model's grounding answer cannot be turned into a box (refusal, bad JSON, not found)."""


def make_client(api_key: str | None = None, *, base_url: str | None = None) -> openai.OpenAI:
    """Return an `openai.OpenAI` client ready for the calls below.

    Args:
        api_key: the key to use (it wins over OPENAI_API_KEY); when None, read it from the
            OPENAI_API_KEY environment variable.
        base_url: an OpenAI-compatible endpoint (a lab proxy) the client sends its requests
            to; None means the official API.

    Returns:
        A client with that key and base URL that retries transient errors (HTTP 429 rate
        limits, 5xx) at least twice (`max_retries` >= 2).

    Raises:
        MissingAPIKeyError: before any request, when no key is given and OPENAI_API_KEY is
            unset or empty. Never fall back to a placeholder key: the first request would
            fail later with a confusing 401.
    """
    # BEGIN SOLUTION
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
    if not key:
        raise MissingAPIKeyError(
            "no OpenAI API key: pass api_key=... or set the OPENAI_API_KEY environment variable"
        )
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=3)
    # END SOLUTION


def complete_text(client: openai.OpenAI, prompt: str, *, model: str = MODEL) -> str:
    """One text generation through the Chat Completions API.

    Send `prompt` as the single user message to `model` (no system message) and return the
    text of the first choice (a `str`, not the response object). API errors propagate.
    """
    # BEGIN SOLUTION
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
    )
    return completion.choices[0].message.content
    # END SOLUTION


def respond_text(client: openai.OpenAI, prompt: str, *, model: str = MODEL) -> str:
    """The same generation through the Responses API (`client.responses.create`).

    Send `prompt` as the input (no `instructions=`) and return the response's text. API
    errors propagate.
    """
    # BEGIN SOLUTION
    response = client.responses.create(model=model, input=prompt)
    return response.output_text
    # END SOLUTION


def image_data_url(image_path: str | Path) -> str:
    """Return the image file as a `data:` URL: `data:<mime type>;base64,<the file's bytes>`.

    The API cannot read files on your disk: images go inside the request. The MIME type
    follows the file name (image/png for .png, image/jpeg for .jpg).
    """
    # BEGIN SOLUTION
    mime, _ = mimetypes.guess_type(str(image_path))
    encoded = base64.b64encode(Path(image_path).read_bytes()).decode("ascii")
    return f"data:{mime or 'application/octet-stream'};base64,{encoded}"
    # END SOLUTION


def ask_about_image(client: openai.OpenAI, image_path: str | Path, question: str, *, model: str = MODEL) -> str:
    """Ask `model` a question about a local image through Chat Completions.

    Send one user message whose content has two parts: the question as a text part, then
    the image as an `image_url` part holding the data URL of `image_path`. Return the
    answer's text. API errors propagate.
    """
    # BEGIN SOLUTION
    completion = client.chat.completions.create(
        model=model,
        messages=[{
            "role": "user",
            "content": [
                {"type": "text", "text": question},
                {"type": "image_url", "image_url": {"url": image_data_url(image_path)}},
            ],
        }],
    )
    return completion.choices[0].message.content
    # END SOLUTION


def respond_about_image(client: openai.OpenAI, image_path: str | Path, question: str, *, model: str = MODEL) -> str:
    """The same question through the Responses API.

    One user input item whose content is an `input_text` part (the question) then an
    `input_image` part (the data URL). Return the response's text. API errors propagate.
    """
    # BEGIN SOLUTION
    response = client.responses.create(
        model=model,
        input=[{
            "role": "user",
            "content": [
                {"type": "input_text", "text": question},
                {"type": "input_image", "image_url": image_data_url(image_path)},
            ],
        }],
    )
    return response.output_text
    # END SOLUTION


def parse_box(answer: str | None, width: int, height: int) -> tuple[int, int, int, int]:
    """Turn the model's JSON answer into a box in pixels of the original image.

    Args:
        answer: the message content, JSON following BOX_SCHEMA: {"found": bool,
            "box_2d": [x_min, y_min, x_max, y_max]} with coordinates normalised to 0..1000
            (a model may answer a little outside 0..1000, or with floats).
        width, height: the original image's size in pixels.

    Returns:
        (x_min, y_min, x_max, y_max) in pixels: four ints (rounded, not cut), clipped to
        0..width and 0..height. A tuple or a list.

    Raises:
        GroundingError: the answer is empty, not JSON (prose, even prose with numbers in it),
            not shaped like BOX_SCHEMA, says the object was not found ("found": false),
            or has x_max <= x_min or y_max <= y_min.
    """
    # BEGIN SOLUTION
    if not answer:
        raise GroundingError("the model returned no content")
    try:
        data = json.loads(answer)
    except json.JSONDecodeError as exc:
        raise GroundingError(f"the model's answer is not JSON: {answer[:80]!r}") from exc
    if not isinstance(data, dict) or not data.get("found"):
        raise GroundingError("the model did not find the object")
    box = data.get("box_2d")
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
        raise GroundingError(f"box_2d must be four numbers, got {box!r}")
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        raise GroundingError(f"empty box {box!r}")
    sx, sy = width / BOX_SCALE, height / BOX_SCALE
    return (
        max(0, min(width, round(x0 * sx))),
        max(0, min(height, round(y0 * sy))),
        max(0, min(width, round(x1 * sx))),
        max(0, min(height, round(y1 * sy))),
    )
    # END SOLUTION


def locate_object(client: openai.OpenAI, image_path: str | Path, object_name: str, *,
                  model: str = MODEL) -> tuple[int, int, int, int]:
    """Ask `model` where `object_name` is in the image; return its box in pixels.

    Send the image (data URL) with an instruction that names `object_name` and asks for
    its bounding box, and ask for structured output: `response_format` of type
    "json_schema" whose json_schema has `"schema": BOX_SCHEMA` and `"strict": True` (without
    strict the model may leave the schema). Then convert the answer with parse_box().

    Raises:
        GroundingError: the model refused (`message.refusal` is set), or parse_box() failed.
        openai.APIError: the API itself failed; let it propagate.
    """
    # BEGIN SOLUTION
    completion = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "You locate objects in images. Answer with the bounding box "
                                          "[x_min, y_min, x_max, y_max], integers normalised to 0..1000."},
            {"role": "user", "content": [
                {"type": "text", "text": f"Where is the {object_name}?"},
                {"type": "image_url", "image_url": {"url": image_data_url(image_path)}},
            ]},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "bounding_box", "strict": True, "schema": BOX_SCHEMA},
        },
    )
    message = completion.choices[0].message
    if message.refusal:
        raise GroundingError(f"the model refused: {message.refusal}")
    with Image.open(image_path) as image:
        width, height = image.size
    return parse_box(message.content, width, height)
    # END SOLUTION


def draw_box(image_path: str | Path, box: tuple[int, int, int, int], out_path: str | Path,
             *, color: tuple[int, int, int] = (255, 0, 0), line_width: int = 4) -> Image.Image:
    """Draw `box` (pixels, x_min, y_min, x_max, y_max) as a rectangle outline on the image.

    Save the result (RGB, same size as the input) to `out_path` and return it. Only the
    outline is drawn: the inside of the box stays as it was.
    """
    # BEGIN SOLUTION
    with Image.open(image_path) as original:
        image = original.convert("RGB")
    ImageDraw.Draw(image).rectangle(box, outline=color, width=line_width)
    image.save(out_path)
    return image
    # END SOLUTION
