"""The foundations every layer builds on: the decision engine, random streams, the decision record, and what
all layers share (errors, the closed sets of names and the limits, safe file writing, process start-up).

NumPy and the standard library only; nothing here imports from another layer of ``sim``.
"""
