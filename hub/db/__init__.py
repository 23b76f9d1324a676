"""The hub's own data: models, engine and sessions, migrations."""
