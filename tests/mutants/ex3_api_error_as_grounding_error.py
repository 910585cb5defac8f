"""Re-raises the API's 401 as a GroundingError (from it): a caller that catches GroundingError to retry
with another wording swallows a wrong key."""
TARGET = "ex3_openai.py"
CATCHES = ["checks/test_ex3.py::test_locate_object_api_error_propagates"]
SAYS = ["let it propagate unchanged"]

_locate_object = locate_object


def locate_object(client, image_path, object_name, *, model=MODEL):
    try:
        return _locate_object(client, image_path, object_name, model=model)
    except openai.APIError as exc:
        raise GroundingError(f"the API failed: {exc}") from exc
