"""The one run pipeline: plans → chunks → an executor → each run's chunks in order → one run
session per run, which feeds its sinks.

A run is a sweep of one point: `gymrun.run`, `gymrun.sweep` and `gymrun.baselines` all make
sessions and play them here (`play_sessions`). A session owns what happens to its run's
episodes: the record on disk, the summary, the reward curve, the interrupt guard's hold
while a batch is written, the failed-write path, a resumed run's kept episodes, the finish;
anything else that wants the episodes as they finish (the progress display, the episodes a
library call returns, a dataset) is a `Sink`.
"""
