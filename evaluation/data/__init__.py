"""Local data: one loader per public format, a registry from mteb task names to files, and the mteb bridge."""
