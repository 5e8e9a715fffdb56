"""Configuration read once from the environment and validated: Settings, environments, their errors."""
