"""The simulator: a Backend over catalogue-driven devices with values that move in time.

``SimBackend()`` needs no network; ``pacsys serve`` puts it behind every installed
server adapter. See docs/simulator.md.
"""

from pacsys.sim.backend import SimBackend
from pacsys.sim.catalogue import CATALOGUE_ENV, Catalogue, CatalogueError, load_catalogue
from pacsys.sim.clock import Clock, ManualClock, SystemClock

__all__ = [
    "CATALOGUE_ENV",
    "Catalogue",
    "CatalogueError",
    "Clock",
    "ManualClock",
    "SimBackend",
    "SystemClock",
    "load_catalogue",
]
