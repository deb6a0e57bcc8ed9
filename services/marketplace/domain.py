"""The marketplace's rules, pure: no I/O. The service reads and writes; these decide."""

# --- catalogue ---

# The registry's market code for selling inside Indonesia: readiness for it alone earns no
# export badge.
DOMESTIC_MARKET = "domestic"


def export_ready_badge(markets):
    """The export-ready badge: ready for at least one foreign market."""
    return any(market != DOMESTIC_MARKET for market in markets)

# --- orders ---
