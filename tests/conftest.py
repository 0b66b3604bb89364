"""Shared test settings."""

# The fixture notebooks are inputs to tests (e.g. one with a deliberately stale output);
# strict nbval must not collect them as course notebooks.
collect_ignore_glob = ["fixtures/*"]
