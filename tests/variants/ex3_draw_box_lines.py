"""Correct, differently: the outline drawn as four ImageDraw.line() calls, centred on the box's edges."""
TARGET = "ex3_openai.py"
PASSES = ["checks/test_ex3.py::test_draw_box_outline"]
REPLACE = [("ImageDraw.Draw(image).rectangle(box, outline=color, width=line_width)",
            """x0, y0, x1, y1 = box
    pen = ImageDraw.Draw(image)
    for start, end in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        pen.line([start, end], fill=color, width=line_width)""")]
