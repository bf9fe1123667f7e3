"""The CDS Hooks 2.0 service: discovery, the three clozapine hooks, feedback (cds-hooks.md)."""
