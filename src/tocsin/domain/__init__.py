"""Pure domain model: entities, rules, events and errors; standard library only."""
