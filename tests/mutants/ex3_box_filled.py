"""Fills the box instead of drawing its outline, hiding the object."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_draw_box_outline"]


def draw_box(image_path, box, out_path, *, color=(255, 0, 0), line_width=4):
    image = Image.open(image_path).convert("RGB")
    ImageDraw.Draw(image).rectangle(box, fill=color)
    image.save(out_path)
    return image
