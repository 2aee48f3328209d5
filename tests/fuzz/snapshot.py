"""Prints what a workspace holds (conversations with their messages,
inboxes, canned responses, the workspace, its agents) as one JSON line,
so tests/fuzz/api.sh can compare it before and after the foreign run,
once it has settled."""

import json
import sys
import time
import urllib.request

base, token = sys.argv[1], sys.argv[2]


def get(path):
    req = urllib.request.Request(base + path)
    req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def snapshot():
    conversations = get("/api/conversations?status=all&limit=200")["conversations"]
    return json.dumps({
        "conversations": sorted(conversations, key=lambda c: c["id"]),
        "messages": {c["id"]: get(f"/api/conversations/{c['id']}/messages?limit=200") for c in conversations},
        "inboxes": get("/api/inboxes"),
        "canned": get("/api/canned_responses"),
        "workspace": get("/api/workspace"),
        "agents": get("/api/agents"),
    }, sort_keys=True)


# The conversation list trails the messages by moments: the last requests
# of a run may still be arriving in it. Two equal snapshots in a row are
# the settled state.
last = snapshot()
for _ in range(40):
    time.sleep(0.5)
    now = snapshot()
    if now == last:
        break
    last = now
print(last)
