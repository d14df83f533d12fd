"""Shipscan: finds shipments in Front conversations, keeps them in SQLite, and tracks them with Ship24."""

__version__ = "0.1.0"
