"""Signs up the fuzzer's workspace and gives it data to answer with.

Prints the owner's session token, and writes a Schemathesis config (the
path given as the second argument) that hands real ids to the operations
on one conversation, inbox or canned response half of the time, so fuzzed
bodies reach the code past the 404 (the other half stay made-up ids). The workspace gets an API-channel inbox
and a widget inbox, and a few conversations written through the signed API
webhook (text, an image, a batch), so list, history and search answers carry
real rows for Schemathesis to check against the schema.
"""

import hashlib
import hmac
import json
import sys
import time
import urllib.request

BASE = sys.argv[1]
SECRET = "fuzz-api-secret"


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
    "workspace": "Fuzz", "name": "Fuzz Owner",
    "email": "fuzz@example.com", "password": "fuzz-password-1",
})["token"]
api = call("POST", "/api/inboxes", {
    "channel": "api", "name": "API",
    "settings": {"secret": SECRET, "callback_url": "http://127.0.0.1:9/callback"},
}, token)
call("POST", "/api/inboxes", {"channel": "widget", "name": "Site", "settings": {}}, token)

for n, payload in enumerate([
    {"id": "fz-1", "contact": {"id": "c-1", "name": "Ada"}, "text": "hello there"},
    {"id": "fz-2", "contact": {"id": "c-1"}, "kind": "image",
     "attachment": {"url": "https://files.example.com/r.png", "mime_type": "image/png"}},
    {"messages": [{"id": "fz-3", "contact": {"id": "c-2"}, "text": "second customer"},
                  {"id": "fz-4", "contact": {"id": "c-3", "name": "Émile 名前"}, "text": "unicode ✓"}]},
]):
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    call("POST", f"/webhooks/api/{api['id']}", raw=body, headers={
        "x-switchboard-timestamp": ts, "x-switchboard-signature": "sha256=" + sig,
    })

canned = call("POST", "/api/canned_responses", {"shortcode": "hi", "text": "Greetings from the fuzz desk"}, token)

# The index trails the conversations by a moment.
conversations = []
for _ in range(100):
    conversations = [c["id"] for c in call("GET", "/api/conversations?status=all", token=token)["conversations"]]
    if len(conversations) >= 3:
        break
    time.sleep(0.1)


def ids(name, values, regex, param, extra=""):
    return (
        f'[dictionaries.{name}]\nvalues = {json.dumps(values)}\n\n'
        f'[[operations]]\ninclude-path-regex = {json.dumps(regex)}\n{extra}'
        f'parameters = {{ "path.{param}" = {{ dictionary = "{name}", probability = 0.5 }} }}\n\n'
    )


with open(sys.argv[2], "w") as config:
    # Erasure would end the conversation the others fuzz: it keeps made-up ids.
    config.write(ids("conversation", conversations, "^/api/conversations/\\{id\\}(?!/erase)", "id"))
    # Deleting the API inbox would end every other operation's data.
    config.write(ids("inbox", [api["id"]], "^/api/inboxes/\\{id\\}$", "id", 'exclude-method = "DELETE"\n'))
    config.write(ids("webhook_inbox", [api["id"]], "^/webhooks/", "inbox_id"))
    config.write(ids("canned", [canned["id"]], "^/api/canned_responses/\\{id\\}$", "id"))
print(token)
