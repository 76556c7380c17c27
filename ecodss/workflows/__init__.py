"""Workflows: the decision chains built from models (forecast → AQI → alert level → decision)."""
