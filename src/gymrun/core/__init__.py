"""Playing episodes in this process: the plan, the environment, the one loop, the summary."""
