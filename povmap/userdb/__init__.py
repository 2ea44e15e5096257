"""What users save and who may do what with it: the user database (``db``), pilot scenarios, the Area Managers
table, the roles table and server settings (``roles``), the append-only audit log, and dataset operations as a
signed-in user does them (``dataops``).

May import :mod:`povmap.core` and :mod:`povmap.data`.
"""
