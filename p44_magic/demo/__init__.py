"""A local, deterministic imitation of the project44 API v4 for demos, tests and benchmarks.

``python -m p44_magic.demo`` serves it from a terminal; ``start_demo_server()`` from Python.
"""

from .auth import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    LIMITED_CLIENT_ID,
    LIMITED_CLIENT_SECRET,
    TENANTS,
)
from .data import DemoData, demo_data
from .server import DemoServer, ReceivedRequest, start_demo_server

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "LIMITED_CLIENT_ID",
    "LIMITED_CLIENT_SECRET",
    "TENANTS",
    "DemoData",
    "DemoServer",
    "ReceivedRequest",
    "demo_data",
    "start_demo_server",
]
