"""JSON → DataFrame: every rule, as a pure function (no IPython, no network)."""

from __future__ import annotations

import pandas as pd
import pytest

from p44_magic import P44UsageError, P44Warning, to_frame
from p44_magic.frames import frame_and_note
from tests.servers import Received, Reply, ScriptedServer, client_for, log_in, with_tokens

EVENTS = [
    {"type": "LOAD", "dateTime": "2026-11-20T10:00:00Z", "stopId": "s1"},
    {"type": "DELIVERY", "dateTime": "2026-11-21T08:30:00Z", "stopId": "s2"},
]
HISTORY = {
    "shipment": {"id": "S-1", "identifiers": [{"type": "PRO", "value": "123"}]},
    "events": EVENTS,
    "states": [{"type": "IN_TRANSIT"}],
    "positions": [{"latitude": 1.0, "longitude": 2.0}],
}


def test_top_level_list_gives_its_rows():
    frame = to_frame(EVENTS)
    assert list(frame.columns) == ["type", "dateTime", "stopId"]
    assert len(frame) == 2


def test_paged_answer_gives_the_results_rows():
    frame = to_frame({"paginationInfo": {"total": 2}, "results": [{"a": 1}, {"a": 2}]})
    assert frame["a"].tolist() == [1, 2]


def test_object_with_one_list_of_objects_gives_that_list():
    frame = to_frame({"accounts": [{"code": "A"}, {"code": "B"}], "count": 2})
    assert frame["code"].tolist() == ["A", "B"]


def test_info_messages_are_never_the_rows():
    answer = {"shipment": {"id": "S"}, "infoMessages": [{"message": "late"}]}
    frame = to_frame(answer)
    assert len(frame) == 1 and frame.loc[0, "shipment.id"] == "S"


def test_several_lists_give_one_row_and_a_hint():
    hint = (
        "The answer holds several lists: events (2), states (1), positions (1). "
        "Pick one with --path NAME."
    )
    with pytest.warns(P44Warning) as seen:
        frame = to_frame(HISTORY)
    assert len(frame) == 1
    assert [str(w.message) for w in seen] == [hint]
    assert frame_and_note(HISTORY)[1] == hint and not frame.attrs


def test_path_and_meta_carry_parent_fields():
    frame = to_frame(HISTORY, record_path="events", meta=["shipment.id"])
    assert frame["shipment.id"].tolist() == ["S-1", "S-1"]
    assert frame["type"].tolist() == ["LOAD", "DELIVERY"]


def test_dotted_path_walks_nested_objects():
    answer = {"shipment": {"routeInfo": {"stops": [{"id": "a"}, {"id": "b"}]}}}
    assert to_frame(answer, record_path="shipment.routeInfo.stops")["id"].tolist() == ["a", "b"]


def test_unknown_path_names_the_keys_there():
    with pytest.raises(P44UsageError, match="has no key 'event'") as caught:
        to_frame(HISTORY, record_path="event")
    assert "events" in str(caught.value)
    with pytest.raises(P44UsageError, match="--meta shipment.nope"):
        to_frame(HISTORY, record_path="events", meta="shipment.nope")


def test_flattening_matches_json_normalize():
    records = [
        {"a": 1, "b": {"c": "x", "d": {"e": 2}}, "tags": ["p", "q"], "n": None},
        {"a": 2, "z": "only here", "b": {}},
        {"b": {"c": "y"}},
    ]
    frame = to_frame(records, parse_dates=False)
    pd.testing.assert_frame_equal(frame, pd.json_normalize(records))
    assert frame.loc[0, "tags"] == ["p", "q"]  # lists of scalars stay lists


def test_timestamps_become_timezone_aware():
    frame = to_frame(EVENTS)
    assert (
        str(frame["dateTime"].dtype).startswith("datetime64")
        and frame["dateTime"].dt.tz is not None
    )
    assert frame.loc[0, "dateTime"] == pd.Timestamp("2026-11-20T10:00:00Z")
    assert to_frame(EVENTS, parse_dates=False)["dateTime"].tolist()[0] == "2026-11-20T10:00:00Z"
    mixed = to_frame([{"t": "2026-11-20T10:00:00Z"}, {"t": "soon"}])
    assert mixed["t"].tolist() == ["2026-11-20T10:00:00Z", "soon"]  # left alone


def test_empty_list_gives_an_empty_frame():
    assert to_frame([]).empty
    assert to_frame({"events": []}).empty


def test_scalars_and_lists_of_scalars():
    assert to_frame([1, 2, 3])["value"].tolist() == [1, 2, 3]
    assert to_frame({"a": 1}).to_dict("records") == [{"a": 1}]


def test_a_dotted_key_given_twice_keeps_the_last_value_like_json_normalize():
    records = [{"a.b": 1, "a": {"b": 2}}, {"x": 1}]
    frame = to_frame(records, parse_dates=False)
    pd.testing.assert_frame_equal(frame, pd.json_normalize(records))
    assert len(to_frame([{"a.b": 1, "a": {"b": 2}}, {"a.b": 3}])) == 2


def test_timezone_setting_gives_frames_excel_takes(logged_in, tmp_path):
    """Issue 13, item 6: orders.to_excel failed with 'Excel does not support datetimes with
    timezones'. The default stays UTC; a zone name converts; None gives naive UTC."""
    import pandas as pd

    from p44_magic import to_frame

    shell = logged_in
    shell.run_cell("%config P44Magics.progress = False")
    search = "%p44 --all-pages POST /api/v4/inventory/orders/search"
    assert shell.run_cell(f"utc = {search}").success
    shell.run_cell("%config P44Magics.timezone = 'Europe/Berlin'")
    assert shell.run_cell(f"berlin = {search}").success
    shell.run_cell("%config P44Magics.timezone = None")
    assert shell.run_cell(f"naive = {search}").success
    utc, berlin, naive = (shell.user_ns[n]["createdDateTime"] for n in ("utc", "berlin", "naive"))
    assert str(utc.dt.tz) == "UTC" and str(berlin.dt.tz) == "Europe/Berlin" and naive.dt.tz is None
    assert (berlin.dt.tz_convert("UTC") == utc).all()  # the same instants
    assert (naive == utc.dt.tz_localize(None)).all()
    path = tmp_path / "orders.xlsx"
    shell.user_ns["naive_orders"] = shell.user_ns["naive"]
    assert shell.run_cell(f"naive_orders.to_excel({str(path)!r})").success
    assert pd.read_excel(path)["createdDateTime"].iloc[0] == naive.iloc[0].replace(tzinfo=None)
    answer = [{"at": "2026-01-02T03:04:05+0000"}]
    assert str(to_frame(answer, timezone="Asia/Tokyo")["at"].dt.tz) == "Asia/Tokyo"
    assert to_frame(answer, timezone=None)["at"].dt.tz is None


ORDERS = {
    "paginationInfo": {"total": 2},
    "results": [
        {
            "orderNumber": "PO-1",
            "statusCode": "OPEN",
            "lineItems": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}],
        },
        {"orderNumber": "PO-2", "statusCode": "SHIPPED", "lineItems": [{"sku": "C", "qty": 5}]},
        {"orderNumber": "PO-3", "statusCode": "NEW", "lineItems": []},
    ],
    "tenant": "acme",
}


def test_a_dotted_path_walks_through_lists_as_json_normalize_does():
    """Issue 13, item 5: --path results.lineItems --meta orderNumber answered 'results has no
    key lineItems. Keys there: list.'"""
    import pandas as pd

    from p44_magic import to_frame

    ours = to_frame(ORDERS, record_path="results.lineItems", meta=["orderNumber", "tenant"])
    theirs = pd.json_normalize(
        ORDERS, record_path=["results", "lineItems"], meta=[["results", "orderNumber"], "tenant"]
    ).rename(columns={"results.orderNumber": "orderNumber"})
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    assert list(ours["orderNumber"]) == ["PO-1", "PO-1", "PO-2"]  # from the order, first
    assert list(ours["tenant"]) == ["acme"] * 3  # else from the top of the answer


def test_path_and_meta_apply_to_each_result_row_with_all_pages():
    import pandas as pd

    def page(got: Received) -> Reply:
        number = int(got.path.split("page=")[1].split("&")[0])
        rows = ORDERS["results"][number - 1 : number]
        return Reply(200, {"paginationInfo": {"total": 3, "pageSize": 1}, "results": rows})

    with ScriptedServer(with_tokens(page)) as server, client_for(server) as p44:
        frame = p44.frame(
            "POST",
            "/api/v4/inventory/orders/search?page=1&pageSize=1",
            json={},
            all_pages=True,
            record_path="lineItems",
            meta=["orderNumber", "statusCode"],
        )
    theirs = pd.json_normalize(
        ORDERS["results"], record_path="lineItems", meta=["orderNumber", "statusCode"]
    )
    pd.testing.assert_frame_equal(frame, theirs, check_dtype=False)


def test_the_magic_walks_through_lists_too(shell, capsys):
    with ScriptedServer(with_tokens(Reply(200, ORDERS))) as server:
        assert log_in(shell, server.base_url).success
        cell = "items = %p44 --path results.lineItems --meta orderNumber GET /api/v4/x"
        assert shell.run_cell(cell).success
    assert list(shell.user_ns["items"].columns) == ["sku", "qty", "orderNumber"]
    capsys.readouterr()
