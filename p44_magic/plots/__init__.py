"""Pictures of tracking tables: a route map (:func:`route_map`) and a stop timeline
(:func:`stop_timeline`), drawn with matplotlib (imported inside the functions, so the package
imports without it) over a land outline shipped with the package; offline, and kept in saved
notebooks, nbconvert HTML/PDF and GitHub's viewer as images."""

from .maps import route_map
from .timeline import stop_timeline

__all__ = ["route_map", "stop_timeline"]
