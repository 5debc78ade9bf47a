"""The hub's stores, one per table group, over one connection abstraction (see hub.store)."""
