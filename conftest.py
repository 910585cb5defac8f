"""The dlgrade pytest plugin serves both the curriculum checks and the harness tests."""
pytest_plugins = ["dlgrade.plugin"]
