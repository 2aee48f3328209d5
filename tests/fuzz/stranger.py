"""Signs up the second workspace of the fuzzer's foreign pass and prints its
owner's token. It gets one conversation of its own, so its feed has an event
to answer with at once: with an empty feed every generated `wait` would hold
its request for up to 30 s and the pass would spend minutes waiting. Its own
text shares nothing with the first workspace's markers."""

import sys

from fuzz_api import conversations_once_listed, post_signed, signed_up_with_api_inbox

BASE = sys.argv[1]
SECRET = "stranger-api-secret"

token, api = signed_up_with_api_inbox(
    BASE, "Stranger", "Stranger", "stranger@example.com", "stranger-password-1", SECRET)
post_signed(BASE, api["id"], SECRET,
            {"id": "st-1", "contact": {"id": "s-1", "name": "Zed"}, "text": "a stranger's own customer"})
conversations_once_listed(BASE, token, 1)
print(token)
