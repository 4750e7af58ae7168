"""Peer tools: httpyac (the npm package) runs the same .http files as p44_magic.

Nothing is installed at run time: the README's test command runs ``.ci/install-httpyac`` first
(httpyac into ``.ci/node/`` of the checkout). When a peer test is selected and httpyac is
missing, the run stops saying so; ``-m "not peer"`` runs the rest without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HTTPYAC = REPO / ".ci" / "node" / "node_modules" / ".bin" / "httpyac"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "peer: runs a peer tool (httpyac, via .ci/install-httpyac) on the same files"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/peers/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.peer)


@pytest.fixture(scope="session")
def httpyac() -> Path:
    if not HTTPYAC.exists():
        pytest.exit(
            f"httpyac is not installed ({HTTPYAC} is missing): run bash .ci/install-httpyac, "
            'or leave the peer tests out with -m "not peer".',
            returncode=4,
        )
    return HTTPYAC
