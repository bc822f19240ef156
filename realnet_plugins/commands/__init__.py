"""Verbs of the ``realnet`` command (see :mod:`realnet_plugins.cli`)."""
