"""Readers and writers: CF NetCDF (atomic), regulatory met files, bundled samples."""

from .netcdf import atomic_write, atomic_write_text, write_netcdf
from .rammet import read_rammet
from .stations import read_prsa, read_station_observations

__all__ = ["atomic_write", "atomic_write_text", "write_netcdf", "read_rammet", "read_prsa",
           "read_station_observations"]
