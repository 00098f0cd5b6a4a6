"""Site, building and room pages (filled in by the places work)."""
