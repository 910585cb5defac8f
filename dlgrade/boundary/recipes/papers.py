"""Recipes of exercise 5's checks: inputs built and gradients observed in the learner process.
"""
from __future__ import annotations
