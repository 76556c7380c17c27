"""Placeholder: replaced by the met/evaluate helper."""
