"""Where outputs live: a local folder now, S3-compatible storage later (DESIGN §5)."""
