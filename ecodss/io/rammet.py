"""Placeholder: replaced by the met helper."""


def read_rammet(path):
    raise NotImplementedError
