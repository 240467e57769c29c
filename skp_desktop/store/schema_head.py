"""The newest schema revision this version of the app knows, without importing Alembic.

A test keeps it equal to Alembic's head. Knowing it here lets an up-to-date database open
without importing Alembic (a quarter of a second at start-up), and the window's quick first
read (services/quick_open.py) trust a file without SQLAlchemy.
"""

SCHEMA_HEAD = "0013"
