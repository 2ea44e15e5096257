"""What users save: the user database (``db``), pilot scenarios and the Area Managers table.

May import :mod:`povmap.core`.
"""
