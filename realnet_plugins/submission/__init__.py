"""Brain-Score submissions: plugin folders and the zip that brain-score.org accepts.

* :mod:`~realnet_plugins.submission.archive` writes any set of plugin folders (models, benchmarks,
  data) into one zip with a single top-level folder;
* :mod:`~realnet_plugins.submission.models` builds the self-contained model plugin folder for a set
  of checkpoints (``realnet submission --models``);
* :mod:`~realnet_plugins.submission.benchmarks` builds a benchmark and a data plugin folder per
  dataset for a set of RSA benchmarks, and the data files the Brain-Score team uploads
  (``realnet submission --benchmarks``);
* :mod:`~realnet_plugins.submission.codegen` copies the code that plugin runs from this package's
  own modules, so the plugin never needs realnet-plugins installed;
* :mod:`~realnet_plugins.submission.weights` downloads and verifies weights files (it is carried
  into the plugin too);
* :mod:`~realnet_plugins.submission.metadata` computes the plugins' ``metadata.yml``.
"""

#: Folder name of a generated model plugin unless one is given. It must differ from this package's
#: in-tree plugin ``models/realnet`` and from every folder already in brain-score/vision (upstream
#: has ``ReAlnet``, ``ReAlnet_ALL``, ``ReAlnet_cornet`` ...), also ignoring case.
DEFAULT_PLUGIN_NAME = "realnet_eeg_aligned"
