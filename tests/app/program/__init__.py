"""Tests of the program screens (enrollment, status forms, registry administration)."""
