"""What the tests share: paths, the fake environment, and ways to run gymrun (through Typer's
runner, or as a real process), a real Dask cluster and real recordings for the board."""
