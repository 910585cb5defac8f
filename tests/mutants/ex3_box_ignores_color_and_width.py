"""Draws a red 4-pixel outline whatever color and line_width say."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_draw_box_outline[color-width]"]
SAYS = ["pixels of colour"]
REPLACE = [("ImageDraw.Draw(image).rectangle(box, outline=color, width=line_width)",
            "ImageDraw.Draw(image).rectangle(box, outline=(255, 0, 0), width=4)")]
