"""Exports: a standalone PyTorch script of a config, and a run's history as CSV or JSON."""
