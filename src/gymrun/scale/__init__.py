"""Episodes from other processes: chunks of a run for a process pool or a Dask cluster."""
