"""What every Laris service shares: event contracts, the transactional outbox and its relay,
the idempotent inbox consumer with dead-lettering, database helpers, config, logging and the
request id that follows a request through RPC calls, events and logs."""
