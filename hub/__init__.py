"""The hub service: app assembly, settings, database, index, jobs and the CLI."""
