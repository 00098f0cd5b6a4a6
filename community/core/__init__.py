"""Shared pieces with no knowledge of any feature."""
