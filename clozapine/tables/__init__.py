"""Policy tables: the reviewed rows, with citations, that the engine applies."""
