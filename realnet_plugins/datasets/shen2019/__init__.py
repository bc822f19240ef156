"""Shen et al. 2019 fMRI (deep image reconstruction): reader, packaging, fixture writer."""
