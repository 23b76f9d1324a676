"""Stand-in department systems: real HTTP services over a synthetic population.

They serve the default run and the tests. Each has its own JSON contract, like the real
departments it stands in for; the adapters absorb the differences.
"""
