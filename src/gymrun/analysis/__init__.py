"""Analysis of recorded runs: runs grouped by config and groups compared (IQM, intervals,
probability of improvement, performance profiles), as ``gymrun compare`` prints it and the
board shows it; how many runs (seeds) a comparison needs, planned from pilot runs."""
