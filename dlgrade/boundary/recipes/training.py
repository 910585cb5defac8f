"""Recipes of exercise 1's checks: inputs for training code (data loaders, models) built in the learner
process, and observers of a model's mode and an optimizer's schedule there.
"""
from __future__ import annotations
