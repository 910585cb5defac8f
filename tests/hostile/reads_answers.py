"""Class 2, reading the answers: a stub that, at import, looks for the reference solution
(next to the installed dlgrade package, at the repository's absolute path, through `import
solutions`, and in the command lines of every process in /proc) and runs it in its place.

Stopped: none of those exist or hold it inside the sandbox. Scores what the stub scores: 0.
"""
BASE = "stub"
EXPECT = 0.0
REPO = "__REPO__"


def _steal():
    import os
    from pathlib import Path

    candidates = [Path(REPO) / "solutions" / "ex3_openai.py"]
    try:
        import dlgrade

        candidates.append(Path(dlgrade.__file__).resolve().parents[1] / "solutions" / "ex3_openai.py")
    except ImportError:
        pass
    for pid in os.listdir("/proc"):
        try:
            for word in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0"):
                folder = Path(os.fsdecode(word))
                candidates += [folder / "solutions" / "ex3_openai.py", folder.parent / "solutions" / "ex3_openai.py"]
        except OSError:
            pass
    for path in candidates:
        try:
            source = path.read_text()
        except OSError:
            continue
        exec(compile(source, str(path), "exec"), globals())
        return
    try:
        from solutions import ex3_openai

        globals().update(vars(ex3_openai))
    except ImportError:
        pass


_steal()
