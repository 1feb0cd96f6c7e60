"""Everything that knows Notion's shapes (mapping, pure) and talks to it (adapter, the only I/O)."""
