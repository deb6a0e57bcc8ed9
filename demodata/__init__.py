"""Demo data for `make run`, loaded through the public HTTP API like any client would, so every
rule and event applies to it. Idempotent: what exists already is left as it is."""
