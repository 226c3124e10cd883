"""What a run leaves on disk: its directory, its episodes, summary, plots and videos."""
