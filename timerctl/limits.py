"""What a schedule may hold: its keys and the ranges of its values.

Shared by the loader's entry-by-entry checks and its column-wise fast path, which must agree.
"""

from __future__ import annotations

import re

TOP_KEYS = ("run", "call")
RUN_KEYS = ("loop", "plugins")
TIMING_KEYS = ("soon", "later", "at")
REPEAT_KEYS = ("every", "count", "until", "mode", "jitter")
CALL_KEYS = ("name", *TIMING_KEYS, "callback", "args", "kwargs", *REPEAT_KEYS)

#: TOML integers are 64-bit: "if an integer cannot be represented losslessly, an error must be
#: thrown". tomllib returns any size; an out-of-range one would fail later (repr, JSON, loop).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

#: numbers above this in ``at`` are Unix timestamps written by mistake (1e8 s is over 3 years)
TIMESTAMP_LIKE = 1e8

#: no duration may exceed this (~31.7 years): 1e300 is a typo, and would overflow the virtual
#: clock's integer nanoseconds and the wall-clock dates of the records
MAX_SECONDS = 1e9

#: what would break a line or drive a terminal, so no name may hold it: C0 and C1 controls (ESC
#: among them, category Cc), line and paragraph separators (Zl, Zp), bidirectional overrides
#: and isolates
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
