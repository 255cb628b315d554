"""The package version (one place; keep pyproject.toml's version equal)."""

__version__ = "0.1.0"
