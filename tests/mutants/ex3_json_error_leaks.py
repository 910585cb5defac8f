"""Parses with json.loads and nothing else: bad answers crash with JSONDecodeError/TypeError/KeyError."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_parse_box_rejects_bad_answers",
           "checks/test_ex3.py::test_locate_object_bad_answer_raises_grounding_error"]


def parse_box(answer, width, height):
    x0, y0, x1, y1 = json.loads(answer)["box_2d"]
    return (round(x0 * width / 1000), round(y0 * height / 1000), round(x1 * width / 1000), round(y1 * height / 1000))
