"""The boundary between the checks and the learner's code.

The checks' process never imports, executes or unpickles anything a learner wrote. Learner
modules are imported in a child process (`child.py`); checks reach their functions through
proxies (`proxy.py`) that send each call over a socket pair (`wire.py`) and get values back as
data only (`codec.py`): JSON, tensors and arrays through safetensors, anything else an opaque
handle that stays in the child. Inputs that are not data (a model, a tokenizer) are built in the
child from a recipe the check sends (`recipes.py`).
"""
