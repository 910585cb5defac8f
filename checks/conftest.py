"""Shared pieces of the curriculum checks."""


def pytest_configure(config):
    config.addinivalue_line("markers", "distributed: runs training scripts in real process groups (exercise 1.5)")
    config.addinivalue_line("markers", "replay(match_on=...): how exercise 3's replay server matches a request")
    config.addinivalue_line("markers", "default_cassette(name): the recording exercise 3's replay server answers from")
