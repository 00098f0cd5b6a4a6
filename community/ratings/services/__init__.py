"""Rules of the ratings package, one module per concern."""
