"""Shared pieces of the curriculum checks."""
from dlgrade.checkkit import api_replay as replay


def pytest_configure(config):
    config.addinivalue_line("markers", "distributed: runs training scripts in real process groups (exercise 1.5)")
    config.addinivalue_line("markers", "replay(match_on=...): how exercise 3's replay server matches a request")


def pytest_recording_configure(config, vcr):
    """Compare OpenAI request bodies by meaning (see dlgrade/checkkit/api_replay.py), not byte for byte:
    exercise 5's ReAct checks replay their cassettes in this process (exercise 3's use a replay server)."""
    for name, matcher in replay.MATCHERS.items():
        vcr.register_matcher(name, matcher)
