"""How long the access log keeps an access, apart from its purge so that the command line
states it without loading the store."""

ACCESS_RETENTION_DAYS = 365
"""How long an access is kept: one year (`docs/personal-data.md`, "Retention")."""
