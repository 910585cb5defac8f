"""Recipes of exercise 2's checks: observers of a causal LM's forward passes in the learner process
(tokens per forward, position ids, the cache), reported as data.
"""
from __future__ import annotations
