"""Never looks at message.refusal; parses the (empty) content instead."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_bad_answer_raises_grounding_error[refusal-grounding_refusal.yaml]"]


def locate_object(client, image_path, object_name, *, model="gpt-4o"):
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": f"Give the bounding box of the {object_name}, 0..1000."},
            {"type": "image_url", "image_url": {"url": image_data_url(image_path)}}]}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "bounding_box", "strict": True, "schema": BOX_SCHEMA}},
    )
    content = completion.choices[0].message.content or "{}"
    with Image.open(image_path) as image:
        return parse_box(content if content != "{}" else '{"found": true, "box_2d": [0, 0, 1000, 1000]}',
                         *image.size)
