"""Alembic's entry: povmap runs the migrations itself, on the connection and in the transaction it holds
(:func:`povmap.userdb.db.connect`), so that the schema changes, the revision and the lock are one step."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():  # inside povmap's transaction: Alembic opens none of its own
    context.run_migrations()
