"""Escalation tickets: the model and its guarded status, queues and SLAs, duplicate merging, the
versioned context bundle an agent reads, and the ticket stores (SQLite and DynamoDB twins)."""
