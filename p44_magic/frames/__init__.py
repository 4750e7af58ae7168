"""Everything that turns parsed answers into tables, with no HTTP and no IPython: ``to_frame``
(``pandas.json_normalize`` semantics), the tracking answer as linked tables, and the builders
they share. Pure functions of the answer; the calls layer hands them what it received."""

from .body import Body
from .columns import DEFAULT_TIMEZONE, in_timezone
from .normalize import (
    NO_PRESET,
    Framed,
    Preset,
    frame_and_note,
    frame_answer,
    frame_pages,
    page_collector,
    to_frame,
)
from .polars_frames import as_frames, from_pandas, polars_module, result_frames
from .records import records_to_frame
from .rows import Rows, name_taken, plain_rows
from .tracking import TrackingTables, joined_tables, tracking_tables

__all__ = [
    "Body",
    "DEFAULT_TIMEZONE",
    "NO_PRESET",
    "Framed",
    "Preset",
    "Rows",
    "as_frames",
    "from_pandas",
    "polars_module",
    "result_frames",
    "TrackingTables",
    "frame_and_note",
    "frame_answer",
    "frame_pages",
    "in_timezone",
    "joined_tables",
    "name_taken",
    "page_collector",
    "plain_rows",
    "records_to_frame",
    "to_frame",
    "tracking_tables",
]
