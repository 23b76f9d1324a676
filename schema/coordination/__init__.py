"""The GraphQL face of the work between departments."""
