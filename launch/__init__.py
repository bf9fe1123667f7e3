"""SMART App Launch client: discovery, authorization with PKCE, token exchange and refresh.

Knows SMART, not clozapine: imports nothing of the engine or the mappings. Filled in by the
launch work; the package exists now so the import rules are checked from the start.
"""
