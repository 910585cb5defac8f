"""Sends the local file path as the image URL instead of a base64 data URL."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_image_question_chat_completions"]


def ask_about_image(client, image_path, question, *, model="gpt-4o"):
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": str(image_path)}}]}])
    return completion.choices[0].message.content
