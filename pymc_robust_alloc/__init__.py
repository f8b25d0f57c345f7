"""Robust budget allocation across disagreeing measurement systems."""

__version__ = "0.1.0"
