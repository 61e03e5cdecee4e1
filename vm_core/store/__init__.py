"""The store: SQLAlchemy models, engine and migrations, the run lock, bulk writes, and what the
configuration and the library put in it (small, transactional state).
"""
