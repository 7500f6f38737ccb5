"""traffic: conversation logs read into one tidy table (issue 15, readers only so far).

In: the bytes of a log file (gzip transparent). Out: a pandas frame with one row per message:
``conversation_id, turn, role, text, tokens`` (``tokens`` is the log's usage when present).
"""

from econ.evidence.traffic.readers import COLUMNS, read_log

__all__ = ["COLUMNS", "read_log"]
