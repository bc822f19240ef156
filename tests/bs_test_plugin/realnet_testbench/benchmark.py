"""A small but real benchmark: record IT for six public-domain photos, RSA against pixel features.

Stimuli are scikit-image's bundled photos written to a temporary folder; the target RDM is
1 − Pearson over a seeded random projection of 16×16 grey pixels. The score is the Spearman
correlation of the upper triangles, with ``raw`` and ``ceiling`` attrs as Brain-Score expects.
"""
import tempfile
from pathlib import Path

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet
from PIL import Image
from scipy.stats import spearmanr

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")


def _stimuli(folder: Path) -> tuple[StimulusSet, np.ndarray]:
    from skimage import data

    paths, pixels = {}, []
    for name in PHOTOS:
        image = Image.fromarray(getattr(data, name)()).convert("RGB")
        path = folder / f"{name}.png"
        image.save(path)
        paths[name] = path
        pixels.append(np.asarray(image.convert("L").resize((16, 16)), dtype=float).ravel())
    stimuli = StimulusSet({"stimulus_id": list(PHOTOS), "image_label": list(PHOTOS)})
    stimuli.stimulus_paths = paths
    stimuli.identifier = "realnet_testbench.skimage6"
    projection = np.random.default_rng(0).standard_normal((256, 32))
    return stimuli, np.stack(pixels) @ projection


def _upper(rdm: np.ndarray) -> np.ndarray:
    return rdm[np.triu_indices(len(rdm), k=1)]


class TinyPixelRSA(BenchmarkBase):
    def __init__(self):
        ceiling = Score(1.0)
        super().__init__(identifier="RealnetTest.tiny-rsa", ceiling=ceiling, version=1, parent="RealnetTest",
                         bibtex=None)

    def __call__(self, candidate):
        with tempfile.TemporaryDirectory() as tmp:
            stimuli, target_features = _stimuli(Path(tmp))
            candidate.start_recording("IT", time_bins=[(70, 170)])
            activations = candidate.look_at(stimuli, number_of_trials=1)
            activations = activations.squeeze("time_bin") if "time_bin" in activations.dims else activations
            order = [list(activations["stimulus_id"].values).index(s) for s in stimuli["stimulus_id"]]
            model_features = np.asarray(activations.values)[order]
        rho = spearmanr(_upper(1 - np.corrcoef(model_features)), _upper(1 - np.corrcoef(target_features)))[0]
        score = Score(rho)
        score.attrs["raw"] = Score(rho)
        score.attrs["ceiling"] = self.ceiling
        score.attrs["n_stimuli"] = len(PHOTOS)
        return score
