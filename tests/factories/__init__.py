"""Test factories: one module per feature, one make_<thing> each."""
