"""Correct, differently: explicit defaults, text as a content part, own grounding prompt and no system message."""
TARGET = "ex3_openai.py"
PASSES = ["checks/test_ex3.py::test_text_generation_chat_completions",
          "checks/test_ex3.py::test_locate_object_box_in_pixels",
          "checks/test_ex3.py::test_locate_object_bad_answer_raises_grounding_error",
          "checks/test_ex3.py::test_parse_box_converts_to_pixels"]


def complete_text(client, prompt, *, model="gpt-4o"):
    completion = client.chat.completions.create(
        messages=[{"content": [{"type": "text", "text": prompt}], "role": "user"}], model=model, n=1,
        temperature=1, stream=False)
    return completion.choices[0].message.content


def parse_box(answer, width, height):
    try:
        data = json.loads(answer or "")
        x0, y0, x1, y1 = (float(v) for v in data["box_2d"])
    except (ValueError, TypeError, KeyError) as exc:
        raise GroundingError(f"unusable answer: {answer!r}") from exc
    if not data.get("found") or x1 <= x0 or y1 <= y0:
        raise GroundingError("no box")
    scale = lambda v, size: int(min(size, max(0.0, v / 1000 * size)) + 0.5)  # noqa: E731
    return (scale(x0, width), scale(y0, height), scale(x1, width), scale(y1, height))


def locate_object(client, image_path, object_name, *, model="gpt-4o"):
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": image_data_url(image_path), "detail": "auto"}},
            {"type": "text", "text": f"Find the {object_name}. Give box_2d as [x_min, y_min, x_max, y_max] "
                                     "scaled to 0-1000."}]}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "object_box", "strict": True, "schema": BOX_SCHEMA}},
    )
    message = completion.choices[0].message
    if message.refusal:
        raise GroundingError("model refused: " + message.refusal)
    width, height = Image.open(image_path).size
    return parse_box(message.content, width, height)
