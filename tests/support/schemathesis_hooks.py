"""What schemathesis cannot know from any OpenAPI document, and a real client does.

- An ``Idempotency-Key`` is a fresh value per new request (reusing one with another body is a
  422 by design).
- A ``cursor`` is opaque: clients only send back the ones the API gave out.
- A certificate's ``valid_until`` is today or later: JSON Schema has no date relative to today.
Everything else the fuzzer generates from the document as it is served.
"""
import datetime as dt
import uuid

import schemathesis

from backbone import clock


@schemathesis.hook
def map_headers(context, headers):
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return headers


@schemathesis.hook
def map_query(context, query):
    if query:
        query.pop("cursor", None)
    return query


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict) and isinstance(body.get("valid_until"), str):
        try:
            # The registry's days are WIB days, whatever the machine's time zone.
            expired = dt.date.fromisoformat(body["valid_until"]) < clock.today_wib()
        except ValueError:
            expired = False
        if expired:
            body["valid_until"] = (clock.today_wib() + dt.timedelta(days=365)).isoformat()
    return body
