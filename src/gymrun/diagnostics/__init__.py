"""What is installed and what an environment is: ``doctor``, ``inspect``, ``check``."""
