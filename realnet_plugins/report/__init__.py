"""The paper's analyses and figures from cached scores: ``realnet report`` and ``realnet verify-paper``.

* :mod:`.selection`: model names and groups (``realnet_s*``) → model groups.
* :mod:`.scores`: the score store (Brain-Score scores computed once, kept as JSON).
* :mod:`.rdms`: cached layer RDMs of checkpoints on the THINGS-EEG2 test images.
* :mod:`.analyses`: the analyses as tables; :mod:`.figures`: the figures drawn from them.
* :mod:`.sections`: one small function per report figure, listed in one table (``FIGURES``).
* :mod:`.fidelity`, :mod:`.imagenet`: EEG-generation fidelity and ImageNet accuracy of checkpoints.
* :mod:`.build`: :func:`build_report` writes PNG, CSV and one HTML page; :mod:`.html` renders the page.
* :mod:`.verify_paper`: the paper's headline numbers beside ours.
"""
from realnet_plugins.report.build import FigureOutput, ReportResult, SkippedFigure, build_report
from realnet_plugins.report.rdms import LayerRDMs, RDMStore, StimulusImages
from realnet_plugins.report.scores import ScoreRecord, ScoreStore

__all__ = [
    "FigureOutput", "LayerRDMs", "RDMStore", "ReportResult", "ScoreRecord", "ScoreStore", "SkippedFigure",
    "StimulusImages", "build_report",
]
