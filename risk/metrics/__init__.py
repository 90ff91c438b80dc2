"""Metric kernels for validation: arrays in, numbers out, no Django (docs/metrics.md has the definitions).

Hand-written in numpy because they are Vigil's own value: a validator must be able to read exactly how
each number is computed, and the kernels must run on millions of rows within a validation job's memory.
Each is tested against an independent reference (scikit-learn, SciPy or a worked example).
"""
