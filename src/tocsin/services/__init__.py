"""Use cases: the message bus, command and event handlers, and the ports they need."""
