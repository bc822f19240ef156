"""realnet-plugins: ReAlnet models, training, and Brain-Score plugins.

Packages installed:
- ``realnet_plugins`` (the library) and ``realnet_plugins.training`` (from ``training/``);
- every plugin folder ``models/<name>``, ``benchmarks/<name>``, ``data/<name>`` as the leaf package
  ``brainscore_vision.<kind>.<name>``, so Brain-Score's grep-based discovery finds it in
  site-packages. Only the leaf packages are installed, never ``brainscore_vision/__init__.py``;
  this needs a regular (non-editable) install.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
PLUGIN_KINDS = ("models", "benchmarks", "data")


def plugin_packages() -> dict[str, str]:
    found = {}
    for kind in PLUGIN_KINDS:
        for init in sorted((HERE / kind).glob("*/__init__.py")):
            folder = init.parent
            if folder.name.startswith(("_", ".")):
                continue
            found[f"brainscore_vision.{kind}.{folder.name}"] = f"{kind}/{folder.name}"
    return found


def version() -> str:
    for line in (HERE / "realnet_plugins" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    raise RuntimeError("no __version__ in realnet_plugins/__init__.py")


plugins = plugin_packages()
library = find_packages(include=["realnet_plugins", "realnet_plugins.*"])
training = ["realnet_plugins.training"] + [
    "realnet_plugins.training." + p for p in find_packages(where="training")
]

setup(
    name="realnet-plugins",
    version=version(),
    description="ReAlnet (human EEG-aligned vision models): training, checkpoints and Brain-Score plugins",
    long_description=(HERE / "README.md").read_text() if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=library + training + list(plugins),
    package_dir={"realnet_plugins.training": "training", **plugins},
    # metadata.yml / .yaml of the plugin folders; the generated submission plugin's template files
    package_data={"": ["*.json", "*.yaml", "*.yml", "*.csv"], "realnet_plugins.submission": ["plugin_template/*.py"]},
    install_requires=[
        "torch>=2.1",
        "torchvision>=0.16",
        "numpy>=1.24",
        "numba>=0.58",
        "scipy>=1.10",
        "scikit-learn>=1.3",
        "pillow>=9",
        "tqdm>=4.60",
        "h5py>=3.8",
        "matplotlib>=3.7",
        "xarray>=2022.3",
        "netCDF4>=1.6",
        "pandas>=1.5",
        "pooch>=1.6",
    ],
    extras_require={
        "brainscore": ["brainscore-vision==2.4.2"],
        "cluster": ["submitit>=1.5"],
        # rsatoolbox 0.3.x imports scikit-learn >= 1.6 API, which Brain-Score's pins exclude; 0.2.0 runs
        # under numpy 1.26 and 2.x (crossnobis 'rsatoolbox' back end, to_/from_rsatoolbox, test oracles)
        "rsa": ["rsatoolbox>=0.2,<0.3"],
        "test": ["pytest>=7", "pytest-check", "scikit-image>=0.21", "submitit>=1.5", "rsatoolbox>=0.2,<0.3"],
    },
    entry_points={"console_scripts": ["realnet=realnet_plugins.cli:main"]},
)
