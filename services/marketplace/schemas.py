"""What the marketplace reads from others (RPC answers, event payloads), validated."""

# --- catalogue ---

# --- orders ---
