"""Correct, differently: every image part sets its own `detail` ("high", "low"): how closely the model looks
is the learner's choice (the module docstring says so)."""
TARGET = "ex3_openai.py"
PASSES = ["checks/test_ex3.py::test_image_question_chat_completions",
          "checks/test_ex3.py::test_image_question_responses_api",
          "checks/test_ex3.py::test_locate_object_box_in_pixels"]
REPLACE = [
    ("""                {"type": "image_url", "image_url": {"url": image_data_url(image_path)}},
            ],
        }],""", """                {"type": "image_url", "image_url": {"url": image_data_url(image_path), "detail": "high"}},
            ],
        }],"""),
    ('{"type": "input_image", "image_url": image_data_url(image_path)},',
     '{"type": "input_image", "image_url": image_data_url(image_path), "detail": "low"},'),
    ("""                {"type": "image_url", "image_url": {"url": image_data_url(image_path)}},
            ]},""", """                {"type": "image_url", "image_url": {"url": image_data_url(image_path), "detail": "high"}},
            ]},"""),
]
