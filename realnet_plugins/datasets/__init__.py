"""Datasets: one folder each, holding its reader, packaging, fixture writer and descriptor."""
