"""Wraps every API call in `except Exception: return ""`: a wrong key looks like an empty answer."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_text_api_errors_propagate", "checks/test_ex3.py::test_image_api_errors_propagate",
           "checks/test_ex3.py::test_locate_object_api_error_propagates"]
SAYS = ["returned as if it had an answer"]


def _swallowing(function):
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except GroundingError:
            raise
        except Exception:
            return ""
    return call


complete_text = _swallowing(complete_text)
respond_text = _swallowing(respond_text)
ask_about_image = _swallowing(ask_about_image)
respond_about_image = _swallowing(respond_about_image)
locate_object = _swallowing(locate_object)
