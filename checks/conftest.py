"""Shared pieces of the curriculum checks."""
from dlgrade.checkkit import api_replay as replay


def pytest_configure(config):
    config.addinivalue_line("markers", "distributed: runs training scripts in real process groups (exercise 1.5)")


def pytest_recording_configure(config, vcr):
    """Compare OpenAI request bodies by meaning (see dlgrade/checkkit/api_replay.py), not byte for byte."""
    for name, matcher in replay.MATCHERS.items():
        vcr.register_matcher(name, matcher)
