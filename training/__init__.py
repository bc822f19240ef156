"""Training ReAlnets: objective, variants and loop (installed as realnet_plugins.training)."""
