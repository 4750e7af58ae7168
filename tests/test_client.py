"""P44Client without IPython, against the demo API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from p44_magic import P44Client, P44HTTPError
from p44_magic.demo import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    LIMITED_CLIENT_ID,
    LIMITED_CLIENT_SECRET,
)


def test_request_and_frame_with_record_path_and_meta(demo):
    with P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url) as p44:
        response = p44.request("GET", "/api/v4/capacityprovideraccounts")
        assert isinstance(response, httpx.Response) and response.status_code == 200
        accounts = p44.frame("GET", "/api/v4/capacityprovideraccounts")
        assert "capacityProviderIdentifier.value" in accounts.columns
        orders = p44.frame(
            "POST",
            "/api/v4/inventory/orders/search?page=1&pageSize=250",
            json={"statusCodes": ["IN_TRANSIT"]},
            all_pages=True,
        )
        assert set(orders["statusCode"]) == {"IN_TRANSIT"}
        sid = orders["shipmentIds"].iloc[0][0]
        positions = p44.frame(
            "GET",
            f"/api/v4/shipments/{sid}/positionhistory",
            record_path="positions",
            meta=["shipment.id"],
        )
        assert (positions["shipment.id"] == sid).all()
        assert positions["dateTime"].is_monotonic_increasing


def test_demo_environment_and_thread_sharing():
    with P44Client(env="demo") as p44:
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(lambda _: p44.request("GET", "/api/v4/webhooks").status_code, range(40))
            )
        assert codes == [200] * 40
        assert p44.token_fetches == 1 and p44.status()["requests"] == 40


def test_a_client_without_the_role_gets_403_with_a_hint(demo):
    with P44Client(LIMITED_CLIENT_ID, LIMITED_CLIENT_SECRET, base_url=demo.base_url) as p44:
        with pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/webhooks")
    error = caught.value
    assert error.status_code == 403 and error.support_reference_id
    assert "lacks the role" in str(error)
    assert error.method == "GET" and error.url.endswith("/api/v4/webhooks")


def test_a_p44_warning_points_at_the_callers_line():
    """The warning names the line that made the call, not p44_magic's wrapper."""
    import warnings

    from p44_magic import P44Warning
    from tests.servers import Reply, ScriptedServer, client_for, with_tokens

    body = {"items": [{"n": 1}], "infoMessages": [{"severity": "WARNING", "message": "late"}]}
    with ScriptedServer(with_tokens(Reply(200, body))) as server, client_for(server) as p44:
        for call in (p44.frame, p44.answer):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call("GET", "/api/v4/x")
            ours = [w for w in caught if issubclass(w.category, P44Warning)]
            assert ours and all(w.filename == __file__ for w in ours), [w.filename for w in ours]
