"""Chat transcripts: what the customer said and what the assistant answered, turn by turn, kept
redacted and for a short time so the agent who takes over reads the whole conversation.

``model`` holds the turn, who may read which turns of a session, and the recorder the hook calls;
``store_sqlite`` and ``store_dynamodb`` are the twins (one contract suite runs on both)."""
