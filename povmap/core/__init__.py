"""The domain's core: one vocabulary, the settings, Thai text and numbers, the household model, the
privacy rules, class breaks and the engine that computes every figure from a :class:`~povmap.core.source.DataSource`.

Imports nothing else of povmap: every other package builds on this one.
"""
