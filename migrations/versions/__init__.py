"""Revision scripts, oldest first (``0001_initial`` creates the system tables)."""
