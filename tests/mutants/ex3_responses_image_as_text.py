"""Responses API: pastes the data URL into the text instead of an input_image part."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_image_question_responses_api"]


def respond_about_image(client, image_path, question, *, model="gpt-4o"):
    response = client.responses.create(model=model, input=f"{question}\n{image_data_url(image_path)}")
    return response.output_text
