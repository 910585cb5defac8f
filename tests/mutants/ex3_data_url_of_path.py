"""Base64-encodes the file name instead of the file's bytes, with a fixed MIME type."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_image_data_url_holds_the_pixels"]


def image_data_url(image_path):
    return "data:image/png;base64," + base64.b64encode(str(image_path).encode()).decode()
