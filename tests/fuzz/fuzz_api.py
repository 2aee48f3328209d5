"""What the fuzzer's setup scripts (workspace.py, stranger.py) share: JSON
calls to the worker, a workspace signed up with an API-channel inbox, and
messages written through that inbox's signed webhook."""

import hashlib
import hmac
import json
import time
import urllib.request


def call(base, method, path, body=None, token=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def signed_up_with_api_inbox(base, workspace, name, email, password, secret):
    """Signs up a workspace and gives it an API-channel inbox; (token, inbox)."""
    token = call(base, "POST", "/api/signup", {
        "workspace": workspace, "name": name, "email": email, "password": password,
    })["token"]
    inbox = call(base, "POST", "/api/inboxes", {
        "channel": "api", "name": f"{workspace} API",
        "settings": {"secret": secret, "callback_url": "http://127.0.0.1:9/callback"},
    }, token)
    return token, inbox


def post_signed(base, inbox_id, secret, payload):
    """Writes `payload` through the API inbox's webhook, signed as a customer's system signs it."""
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    call(base, "POST", f"/webhooks/api/{inbox_id}", raw=body, headers={
        "x-switchboard-timestamp": ts, "x-switchboard-signature": "sha256=" + sig,
    })


def conversations_once_listed(base, token, at_least):
    """The workspace's conversation ids once the list (which trails by a moment) holds `at_least`."""
    ids = []
    for _ in range(100):
        ids = [c["id"] for c in call(base, "GET", "/api/conversations?status=all", token=token)["conversations"]]
        if len(ids) >= at_least:
            break
        time.sleep(0.1)
    return ids
