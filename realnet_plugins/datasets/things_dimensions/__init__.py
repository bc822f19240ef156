"""THINGS 49 object dimensions (Hebart et al. 2020, SPoSE embedding): reader."""
