"""The household index: synced from civil affairs, read for search and scheduling."""
