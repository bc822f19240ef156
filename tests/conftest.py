"""Test configuration: every test writes under its own temporary $REALNET_HOME; nothing downloads."""
from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(2)
os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the slowest checks (CI runs them too; -m \"not slow\" leaves them out)")


@pytest.fixture(autouse=True)
def realnet_home(tmp_path_factory, monkeypatch):
    """A fresh, empty $REALNET_HOME for each test."""
    home = tmp_path_factory.mktemp("realnet_home")
    monkeypatch.setenv("REALNET_HOME", str(home))
    return home


@pytest.fixture
def one_torch_thread():
    """One torch thread for small training problems: on 2 shared cores, more threads mostly add contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
