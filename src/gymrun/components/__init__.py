"""What a config can name: environments, wrappers, agents and the code that makes them.

Knows Gymnasium; knows nothing of the config's schema, of runs or of records.
"""
