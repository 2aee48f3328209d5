"""A Schemathesis check for the fuzzer's second run, made with another
workspace's token and the first workspace's real ids: no answer may carry
anything of the first workspace (its message texts, contact, owner).

Loaded by tests/fuzz/api.sh through SCHEMATHESIS_HOOKS; the texts to look
for come in FUZZ_FOREIGN_MARKERS, separated by `|`.
"""

import os

import schemathesis

MARKERS = [m for m in os.environ.get("FUZZ_FOREIGN_MARKERS", "").split("|") if m]


@schemathesis.check
def nothing_of_another_workspace(ctx, response, case):
    # The raw bytes, decoded leniently: a marker in any part of any answer.
    text = (response.content or b"").decode("utf-8", "replace")
    for marker in MARKERS:
        if marker in text:
            raise AssertionError(
                f"an answer to another workspace's token carries the first workspace's {marker!r}"
            )
