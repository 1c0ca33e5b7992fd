"""The benchmark harness of Aspirasi (``make bench``, ``make bench-quick``).

See ``docs/performance.md``: what is measured, how, and how to read the results.
"""
