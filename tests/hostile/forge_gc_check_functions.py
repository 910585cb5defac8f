"""Class 1, forged scores: at import, find the collected check items through the garbage
collector and swap each check's function for one that returns at once. A stub otherwise.

Void: the exercise file is imported in the learner process (dlgrade/boundary), whose garbage
collector holds no check; the checks run untouched and grade the stub underneath.
"""
BASE = "stub"
EXPECT = 0.0


def _swap():
    import gc

    for obj in gc.get_objects():
        if type(obj).__name__ == "Function" and hasattr(obj, "nodeid") and hasattr(obj, "obj"):
            try:
                obj.obj = lambda *args, **kwargs: None
            except Exception:  # noqa: BLE001
                pass


_swap()
