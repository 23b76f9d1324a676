"""Department adapters: the hub's only way to talk to the seven department systems.

Nothing in this package imports the hub or the schema; the shared vocabulary (sources,
districts, assistance categories, ID numbers) and the record types live here.
"""
