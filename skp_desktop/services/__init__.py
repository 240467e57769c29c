"""Use cases: each call is one transaction and returns frozen dataclasses (DTOs)."""
