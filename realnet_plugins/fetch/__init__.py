"""Download the data and weights the paper uses, hash-checked, resumable, from the origin or a mirror.

``realnet fetch NAME...`` (:mod:`realnet_plugins.commands.fetch`) calls :func:`fetch_sources`. The
catalogue of names is :data:`~realnet_plugins.fetch.sources.SOURCES`; every address and hash in it
is read at run time from an authoritative place (the installed Brain-Score plugins, torchvision,
OSF's and figshare's APIs). Downloads go through pooch with :class:`ResumingDownloader`.

This package imports neither pooch nor requests at import time; they are needed only to download.
"""
from realnet_plugins.fetch.download import DownloadError, IntegrityError, ResumingDownloader, land_file
from realnet_plugins.fetch.fetcher import FetchReport, fetch_sources, plan
from realnet_plugins.fetch.sources import SOURCES

__all__ = ["SOURCES", "DownloadError", "FetchReport", "IntegrityError", "ResumingDownloader", "fetch_sources",
           "land_file", "plan"]
