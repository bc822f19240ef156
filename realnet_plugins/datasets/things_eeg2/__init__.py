"""THINGS-EEG2 (Gifford et al. 2022): reader, packaging, fixture writer."""
