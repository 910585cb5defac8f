"""dlgrade: a pytest-driven grading suite for a deep-learning onboarding curriculum."""
