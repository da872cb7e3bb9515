"""What the IT team watches: `/metrics` (docs/ops/metrics.md)."""
