"""The paging engine's use cases: escalation steps, target resolution and deliveries."""
