"""Evaluation: how well detection, ranking and suggestion do, measured on planted fraud,
held-out follows and labelled real accounts. Nothing in production imports this package;
the ``trueclout eval`` commands, the tests and the benchmarks do. See ``README.md`` in
this folder.

Examples
--------
>>> from trueclout.evaluate.attacks import parse_budgets
>>> parse_budgets("100,1000")
[100, 1000]
"""
