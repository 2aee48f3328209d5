"""Signs up the second workspace of the fuzzer's foreign pass and prints its
owner's token. It gets one conversation of its own, so its feed has an event
to answer with at once: with an empty feed every generated `wait` would hold
its request for up to 30 s and the pass would spend minutes waiting. Its own
text shares nothing with the first workspace's markers."""

import hashlib
import hmac
import json
import sys
import time
import urllib.request

BASE = sys.argv[1]
SECRET = "stranger-api-secret"


def call(method, path, body=None, token=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


token = call("POST", "/api/signup", {
    "workspace": "Stranger", "name": "Stranger",
    "email": "stranger@example.com", "password": "stranger-password-1",
})["token"]
api = call("POST", "/api/inboxes", {
    "channel": "api", "name": "Stranger API",
    "settings": {"secret": SECRET, "callback_url": "http://127.0.0.1:9/callback"},
}, token)
body = json.dumps({"id": "st-1", "contact": {"id": "s-1", "name": "Zed"}, "text": "a stranger's own customer"}).encode()
ts = str(int(time.time()))
sig = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
call("POST", f"/webhooks/api/{api['id']}", raw=body, headers={
    "x-switchboard-timestamp": ts, "x-switchboard-signature": "sha256=" + sig,
})
for _ in range(100):
    if call("GET", "/api/conversations?status=all", token=token)["conversations"]:
        break
    time.sleep(0.1)
print(token)
