"""The paper's analyses as functions over arrays (no file I/O, no Brain-Score).

* :mod:`realnet_plugins.analysis.eeg`: summaries of EEG temporal RSA, time-course comparisons,
  the cross-subject (model x subject) matrix.
* :mod:`realnet_plugins.analysis.variability`: individual variability between models' RDMs.
* :mod:`realnet_plugins.analysis.dimensions`: THINGS object dimensions and partial Spearman RSA.

Statistics come from :mod:`realnet_plugins.stats`.
"""
