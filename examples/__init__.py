"""Examples to copy: an environment of your own (`my_envs`)."""
