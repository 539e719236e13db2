"""The counters' services: per-year sequence numbers (`sequences`) and rate-limit windows (`ratelimit`)."""
