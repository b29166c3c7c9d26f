"""Per-client limits on wrong tokens (invitation links and API tokens) and the client's address."""
