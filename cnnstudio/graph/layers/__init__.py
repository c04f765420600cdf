"""Catalogue entries, one module per category family. Importing a module registers it."""
