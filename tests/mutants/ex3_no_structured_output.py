"""Asks for JSON in prose (json_object mode) instead of the box schema."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_box_in_pixels"]


def locate_object(client, image_path, object_name, *, model="gpt-4o"):
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": f"Return JSON with box_2d for the {object_name}, 0..1000."},
            {"type": "image_url", "image_url": {"url": image_data_url(image_path)}}]}],
        response_format={"type": "json_object"},
    )
    with Image.open(image_path) as image:
        return parse_box(completion.choices[0].message.content, *image.size)
