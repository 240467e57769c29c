"""SKP Returns: performance returns for the Safer Kingston Partnership."""

__version__ = "0.1.0"
APP_NAME = "SKP Returns"
