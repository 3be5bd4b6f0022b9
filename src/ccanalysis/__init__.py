"""ccanalysis: the care coordinator survey of Solberg et al. 2024, reproduced from the data."""

__version__ = "0.1.0"
