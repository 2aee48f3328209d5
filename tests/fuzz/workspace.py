"""Signs up the fuzzer's workspace and gives it data to answer with.

Prints the owner's session token, and writes a Schemathesis config (the
path given as the second argument) that hands real ids to the operations
on one conversation, inbox or canned response half of the time, so fuzzed
bodies reach the code past the 404 (the other half stay made-up ids). The workspace gets an API-channel inbox
and a widget inbox, and a few conversations written through the signed API
webhook (text, an image, a batch), so list, history and search answers carry
real rows for Schemathesis to check against the schema.
"""

import json
import sys

from fuzz_api import call as call_at, conversations_once_listed, post_signed, signed_up_with_api_inbox

BASE = sys.argv[1]
SECRET = "fuzz-api-secret"


def call(method, path, body=None, token=None):
    return call_at(BASE, method, path, body, token)


token, api = signed_up_with_api_inbox(BASE, "Fuzz", "Fuzz Owner", "fuzz@example.com", "fuzz-password-1", SECRET)
call("POST", "/api/inboxes", {"channel": "widget", "name": "Site", "settings": {}}, token)

for payload in [
    {"id": "fz-1", "contact": {"id": "c-1", "name": "Ada"}, "text": "hello there"},
    {"id": "fz-2", "contact": {"id": "c-1"}, "kind": "image",
     "attachment": {"url": "https://files.example.com/r.png", "mime_type": "image/png"}},
    {"messages": [{"id": "fz-3", "contact": {"id": "c-2"}, "text": "second customer"},
                  {"id": "fz-4", "contact": {"id": "c-3", "name": "Émile 名前"}, "text": "unicode ✓"}]},
]:
    post_signed(BASE, api["id"], SECRET, payload)

canned = call("POST", "/api/canned_responses", {"shortcode": "hi", "text": "Greetings from the fuzz desk"}, token)

# The index trails the conversations by a moment.
conversations = conversations_once_listed(BASE, token, 3)


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
