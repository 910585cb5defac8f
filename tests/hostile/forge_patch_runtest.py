"""Class 1, forged scores: at import, make every pytest check a no-op that passes.

Reaches pytest through sys.modules (no `import _pytest` to grep for) and replaces
Function.runtest. Void: the exercise file is imported in the learner process (dlgrade/boundary),
which has no pytest to patch; the checks run untouched and grade the code underneath.
"""
BASE = "solution"
EXPECT = "full"


def _forge():
    import sys

    for name, module in list(sys.modules.items()):
        function = getattr(module, "Function", None)
        if name.endswith(".python") and isinstance(function, type) and hasattr(function, "runtest"):
            function.runtest = lambda self: None


_forge()
