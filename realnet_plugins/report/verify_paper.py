"""``realnet verify-paper``: the paper's headline numbers recomputed from the scores, beside the paper's values.

:data:`PAPER_VALUES` is the one table of the paper's numbers (Lu, Wang & Golomb 2026, Communications
Biology 9:463) with where each is stated. :func:`verify_paper` recomputes each from the stored scores
(the published checkpoints imported as ``realnet_sNN``, the controls as ``realnet_<variant>_sNN``, the
base models imported from the ImageNet files) on the packaged data, and returns both side by side.
Numbers that need models or data that are absent are reported as missing, with the reason.

Cohen's d: this project reports d_z = t / √n for paired and one-sample tests (SPEC.md). The paper's d
equals t / √10 for its tests against CORnet, but not for its comparisons of two model sets (ReAlnets vs
Scrambled, vs W/o ContLoss), where the paper's value is marked "paper's d; formula unknown"; two of its d
values are garbled in the text (SPEC.md) and are listed as such, never as oracles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from realnet_plugins.report import analyses as an
from realnet_plugins.report.build import CollectedData, collect_report_data
from realnet_plugins.report.scores import BEHAVIOUR_BENCHMARKS, ScoreStore
from realnet_plugins.report.selection import ModelGroup

#: Subjects and test images of the real THINGS-EEG2 release (fewer: fixture or partial data).
REAL_THINGS_EEG2 = {"subjects": 10, "test_images": 200}


@dataclass(frozen=True)
class PaperValue:
    """One number the paper reports.

    Attributes:
        key: identifier of the quantity.
        quantity: what it is.
        value: the paper's number (NaN where it states only text, e.g. time windows).
        text: the paper's statement as printed (time windows, "p < 0.0001").
        source: where the paper states it.
        note: caveats (approximate, garbled in the paper, different effect-size formula).
    """

    key: str
    quantity: str
    value: float
    text: str
    source: str
    note: str = ""


_EEG = "Results, 'Improved similarity to human EEG'"
_CTRL = "Results, 'Control experiments', 2nd paragraph; Fig. 5"
_D_UNKNOWN = "paper's d; not t/√10, formula unknown (ours: d_z)"
PAPER_VALUES: tuple[PaperValue, ...] = (
    PaperValue("fidelity_spearman", "EEG generation: Spearman, whole test array (mean over ReAlnets)", 0.7785,
               "0.7785", "Results, 'Aligning CORnet with human EEG representations', 3rd paragraph; Suppl. Fig. 1C–E"),
    PaperValue("fidelity_feature_pearson", "EEG generation: mean per-feature Pearson across images", 0.3081, "0.3081",
               "Results, 'Aligning CORnet with human EEG representations', 3rd paragraph; Suppl. Fig. 1F"),
    PaperValue("imagenet_top1", "ImageNet top-1 accuracy (%), mean over ReAlnets", 69.31, "69.31%",
               "Results, 'Aligning CORnet with human EEG representations', 3rd paragraph; Suppl. Fig. 1A"),
    PaperValue("imagenet_top5", "ImageNet top-5 accuracy (%), mean over ReAlnets", 88.88, "88.88%",
               "Results, 'Aligning CORnet with human EEG representations', 3rd paragraph; Suppl. Fig. 1B"),
    PaperValue("windows_V1", "EEG: time points where ReAlnets > CORnet, layer V1", float("nan"),
               "70–130 and 160–200 ms", f"{_EEG}, 1st paragraph; Fig. 2A", "ours: paired t-test p < .05 uncorrected"),
    PaperValue("windows_V2", "EEG: time points where ReAlnets > CORnet, layer V2", float("nan"), "60–200 ms",
               f"{_EEG}, 1st paragraph; Fig. 2A", "ours: paired t-test p < .05 uncorrected"),
    PaperValue("windows_V4", "EEG: time points where ReAlnets > CORnet, layer V4", float("nan"), "60–200 ms",
               f"{_EEG}, 1st paragraph; Fig. 2A", "ours: paired t-test p < .05 uncorrected"),
    PaperValue("windows_IT", "EEG: time points where ReAlnets > CORnet, layer IT", float("nan"), "70–160 ms",
               f"{_EEG}, 1st paragraph; Fig. 2A", "ours: paired t-test p < .05 uncorrected"),
    PaperValue("peak_improvement_max", "EEG: largest mean improvement at a layer's peak (Δρ)", 0.06, "≈ 6%",
               f"{_EEG}, after Fig. 2; Fig. 2B", "approximate ('a maximum of a 6% similarity improvement')"),
    PaperValue("peak_ratio_max", "EEG: largest mean improvement ratio at a layer's peak", 0.40, "≈ 40%",
               f"{_EEG}, after Fig. 2; Fig. 2B", "approximate ('a 40% improvement ratio')"),
    PaperValue("matched_t", "EEG: matched vs unmatched model-subject pairs, t", 5.6068, "t = 5.6068",
               f"{_EEG}, cross-subject paragraph; Fig. 2G"),
    PaperValue("matched_p", "EEG: matched vs unmatched model-subject pairs, p", 0.0003, "p = 0.0003",
               f"{_EEG}, cross-subject paragraph; Fig. 2G"),
    PaperValue("eeg_fmri_r", "EEG vs fMRI improvement across ReAlnets, Pearson r", 0.9204, "r = 0.9204",
               "Results, 'Improved similarity in ReAlnets to human fMRI', last paragraph; Suppl. Fig. 3"),
    PaperValue("behaviour_vs_base_t", "Behaviour (mean of two benchmarks): ReAlnets vs CORnet, t", 2.7702,
               "t = 2.7702", "Results, 'Improved similarity in ReAlnets to behavior'; Fig. 4A"),
    PaperValue("behaviour_vs_base_p", "Behaviour: ReAlnets vs CORnet, p", 0.0217, "p = 0.0217",
               "Results, 'Improved similarity in ReAlnets to behavior'; Fig. 4A"),
    PaperValue("behaviour_vs_base_d", "Behaviour: ReAlnets vs CORnet, Cohen's d", 0.8762, "d = 0.8762",
               "Results, 'Improved similarity in ReAlnets to behavior'; Fig. 4A"),
    PaperValue("behaviour_vs_scrambled_t", "Behaviour: ReAlnets vs Scrambled, t", 8.5582, "t = 8.5582",
               "Results, 'Improved similarity in ReAlnets to behavior'; Fig. 4A"),
    PaperValue("behaviour_vs_scrambled_d", "Behaviour: ReAlnets vs Scrambled, Cohen's d", 3.8273, "d = 3.8273",
               "Results, 'Improved similarity in ReAlnets to behavior'; Fig. 4A", _D_UNKNOWN),
    PaperValue("eeg_no_mse_t", "EEG improvement of W/o MSELoss over CORnet, t", 0.5640, "t = 0.5640", _CTRL),
    PaperValue("eeg_no_mse_p", "EEG improvement of W/o MSELoss over CORnet, p", 0.5865, "p = 0.5865", _CTRL),
    PaperValue("eeg_no_mse_d", "EEG improvement of W/o MSELoss over CORnet, d", 0.1784, "d = 0.1784", _CTRL),
    PaperValue("eeg_unpaired_t", "EEG improvement of Unpaired over CORnet, t", -0.6654, "t = −0.6654", _CTRL),
    PaperValue("eeg_unpaired_p", "EEG improvement of Unpaired over CORnet, p", 0.5225, "p = 0.5225", _CTRL),
    PaperValue("eeg_unpaired_d", "EEG improvement of Unpaired over CORnet, d", float("nan"), "d = −2104", _CTRL,
               "garbled in the paper (t/√10 = −0.2104)"),
    PaperValue("eeg_scrambled_t", "EEG improvement of Scrambled over CORnet, t", 1.9450, "t = 1.9450", _CTRL),
    PaperValue("eeg_scrambled_p", "EEG improvement of Scrambled over CORnet, p", 0.0835, "p = 0.0835", _CTRL),
    PaperValue("eeg_scrambled_d", "EEG improvement of Scrambled over CORnet, d", 0.6154, "d = 0.6154", _CTRL),
    PaperValue("fmri_no_mse_t", "fMRI improvement of W/o MSELoss over CORnet, t", -6.3837, "t = −6.3837", _CTRL),
    PaperValue("fmri_no_mse_p", "fMRI improvement of W/o MSELoss over CORnet, p", 0.0001, "p = 0.0001", _CTRL),
    PaperValue("fmri_no_mse_d", "fMRI improvement of W/o MSELoss over CORnet, d", -2.0187, "d = −2.0187", _CTRL),
    PaperValue("fmri_unpaired_t", "fMRI improvement of Unpaired over CORnet, t", -3.1304, "t = −3.1304", _CTRL),
    PaperValue("fmri_unpaired_p", "fMRI improvement of Unpaired over CORnet, p", 0.0121, "p = 0.0121", _CTRL),
    PaperValue("fmri_unpaired_d", "fMRI improvement of Unpaired over CORnet, d", float("nan"), "d = −0.0900", _CTRL,
               "garbled in the paper (t/√10 = −0.9899)"),
    PaperValue("fmri_scrambled_t", "fMRI improvement of Scrambled over CORnet, t", -3.2647, "t = −3.2647", _CTRL),
    PaperValue("fmri_scrambled_p", "fMRI improvement of Scrambled over CORnet, p", 0.0098, "p = 0.0098", _CTRL),
    PaperValue("fmri_scrambled_d", "fMRI improvement of Scrambled over CORnet, d", -1.0324, "d = −1.0324", _CTRL),
    PaperValue("eeg_no_contrastive_t", "EEG improvement of W/o ContLoss over CORnet, t", 11.4987, "t = 11.4987",
               _CTRL),
    PaperValue("eeg_no_contrastive_d", "EEG improvement of W/o ContLoss over CORnet, d", 3.6362, "d = 3.6362", _CTRL),
    PaperValue("fmri_no_contrastive_t", "fMRI improvement of W/o ContLoss over CORnet, t", 4.1036, "t = 4.1036",
               _CTRL),
    PaperValue("fmri_no_contrastive_p", "fMRI improvement of W/o ContLoss over CORnet, p", 0.0027, "p = 0.0027",
               _CTRL),
    PaperValue("fmri_no_contrastive_d", "fMRI improvement of W/o ContLoss over CORnet, d", 1.2977, "d = 1.2977",
               _CTRL),
    PaperValue("fmri_no_contrastive_vs_realnet_t", "fMRI improvement: W/o ContLoss vs ReAlnets, t", -8.0364,
               "t = −8.0364", _CTRL),
    PaperValue("fmri_no_contrastive_vs_realnet_d", "fMRI improvement: W/o ContLoss vs ReAlnets, d", -1.5494,
               "d = −1.5494", _CTRL, _D_UNKNOWN),
    PaperValue("eeg_no_contrastive_vs_realnet_t", "EEG improvement: W/o ContLoss vs ReAlnets, t", 0.8543,
               "t = 0.8543", _CTRL),
    PaperValue("eeg_no_contrastive_vs_realnet_p", "EEG improvement: W/o ContLoss vs ReAlnets, p", 0.4151,
               "p = 0.4151", _CTRL),
    PaperValue("eeg_no_contrastive_vs_realnet_d", "EEG improvement: W/o ContLoss vs ReAlnets, d", 0.0517,
               "d = 0.0517", _CTRL, _D_UNKNOWN),
)

#: Control families of the paper and the prefix of their keys in :data:`PAPER_VALUES`.
_CONTROL_KEYS = {"realnet_nomse": "no_mse", "realnet_unpaired": "unpaired", "realnet_scrambled": "scrambled",
                 "realnet_nocont": "no_contrastive"}
PAPER_CONTROLS: tuple[str, ...] = tuple(f"{family}_s*" for family in _CONTROL_KEYS)


@dataclass(frozen=True)
class Verification:
    """The paper's values beside ours.

    Attributes:
        table: key, quantity, paper (text), paper_value, ours, difference (ours − paper), source,
            note (caveats; why ours is missing).
        banner: a warning when the data are not the paper's (fixture or partial), else "".
    """

    table: pd.DataFrame
    banner: str

    def format(self) -> str:
        """The table as aligned text, with the banner first."""
        lines = [self.banner, ""] if self.banner else []
        shown = self.table.assign(
            ours=[_format_number(v) for v in self.table["ours"]],
            difference=[_format_number(v) for v in self.table["difference"]])
        widths = {"quantity": 64, "paper": 22, "ours": 22}
        lines.append(f"{'quantity':<{widths['quantity']}} {'paper':<{widths['paper']}} {'ours':<{widths['ours']}} "
                     "source / note")
        for _, row in shown.iterrows():
            note = f"  [{row['note']}]" if row["note"] else ""
            lines.append(f"{row['quantity'][:widths['quantity']]:<{widths['quantity']}} "
                         f"{row['paper']:<{widths['paper']}} {row['ours']:<{widths['ours']}} {row['source']}{note}")
        if self.banner:
            lines += ["", self.banner]
        return "\n".join(lines)


def _format_number(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{float(value):.4g}"


def windows_text(times_ms: Sequence[float], significant: Sequence[bool], step_ms: float = 10.0) -> str:
    """Runs of significant samples as the paper writes them: ``'70–130 and 160–200 ms'``.

    A run of samples t_a … t_b is written ``t_a–(t_b + step)`` (a sample stands for its 10 ms bin).
    """
    runs, start, previous = [], None, None
    for t, hit in zip(times_ms, significant):
        if hit and start is None:
            start = t
        if not hit and start is not None:
            runs.append((start, previous + step_ms))
            start = None
        previous = t
    if start is not None:
        runs.append((start, previous + step_ms))
    if not runs:
        return "none"
    return " and ".join(f"{a:.0f}–{b:.0f}" for a, b in runs) + " ms"


def _banner(collected: CollectedData, package_shape: Callable[[], tuple[int, int]] | None) -> str:
    problems = []
    if package_shape is not None:
        try:
            n_subjects, n_images = package_shape()
            if n_subjects < REAL_THINGS_EEG2["subjects"] or n_images != REAL_THINGS_EEG2["test_images"]:
                problems.append(f"the THINGS-EEG2 package has {n_subjects} subjects and {n_images} test images "
                                f"(the paper: {REAL_THINGS_EEG2['subjects']} and {REAL_THINGS_EEG2['test_images']})")
        except Exception as error:  # noqa: BLE001 - any failure means the data cannot be checked
            problems.append(f"the THINGS-EEG2 package could not be read ({error})")
    n_main = len(collected.data.main.models)
    if n_main < REAL_THINGS_EEG2["subjects"]:
        problems.append(f"{n_main} ReAlnets (the paper: 10)")
    if not problems:
        return ""
    return ("*** FIXTURE OR PARTIAL DATA: numbers are not comparable with the paper's: " + "; ".join(problems)
            + " ***")


def _package_shape() -> tuple[int, int]:
    from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package

    package = ThingsEEG2Package()
    return len(package.subjects), len(package.stimulus_table(verify=False))


def _ours(collected: CollectedData, fidelity: pd.DataFrame | None, imagenet: pd.DataFrame | None
          ) -> tuple[dict[str, object], dict[str, str]]:
    """Our value of each key, and why a value is missing."""
    data = collected.data
    ours: dict[str, object] = {}
    missing: dict[str, str] = {}

    def attempt(keys: Sequence[str], compute: Callable[[], dict[str, object]]) -> None:
        try:
            ours.update(compute())
        except (an.AnalysisSkipped, KeyError, ValueError) as error:
            for key in keys:
                missing[key] = str(error) or type(error).__name__

    def windows() -> dict[str, object]:
        courses = an.layer_time_courses(data, n_permutations=1)
        base_label = data.base.label if data.base else ""
        out: dict[str, object] = {}
        for layer in dict.fromkeys(courses.marks["layer"]):
            part = courses.marks[(courses.marks["comparison"] == base_label) & (courses.marks["layer"] == layer)]
            out[f"windows_{layer}"] = windows_text(part["time_ms"], part["uncorrected_significant"] & (part["t"] > 0))
        return out

    def peaks() -> dict[str, object]:
        stats = an.peak_improvements(data).stats
        return {"peak_improvement_max": float(stats.loc[stats["measure"] == "improvement", "mean"].max()),
                "peak_ratio_max": float(stats.loc[stats["measure"] == "ratio", "mean"].max())}

    def matched() -> dict[str, object]:
        test = an.cross_subject(data).test
        if test.empty:
            raise an.AnalysisSkipped("matched vs unmatched needs ≥ 3 personalised models")
        return {"matched_t": float(test["t"].iloc[0]), "matched_p": float(test["p"].iloc[0])}

    def correlation() -> dict[str, object]:
        result = an.improvements(data, [data.main]).correlation
        if result.empty:
            raise an.AnalysisSkipped("needs ≥ 3 ReAlnets with EEG and fMRI scores")
        return {"eeg_fmri_r": float(result["r"].iloc[0])}

    def behaviour() -> dict[str, object]:
        stats = an.behaviour(data, BEHAVIOUR_BENCHMARKS).stats
        out: dict[str, object] = {}
        mean_rows = stats[stats["benchmark"] == "mean"]
        for _, row in mean_rows.iterrows():
            if data.base is not None and row["comparison"] == data.base.label:
                out.update({"behaviour_vs_base_t": row["t"], "behaviour_vs_base_p": row["p"],
                            "behaviour_vs_base_d": row["cohens_d"]})
            if row["comparison"] == "Scrambled":
                out.update({"behaviour_vs_scrambled_t": row["t"], "behaviour_vs_scrambled_d": row["cohens_d"]})
        if not out:
            raise an.AnalysisSkipped("no mean behavioural score (both benchmarks are needed)")
        return out

    def controls() -> dict[str, object]:
        result = an.improvements(data)
        out: dict[str, object] = {}
        labels = {g.label: _CONTROL_KEYS[g.family] for g in data.controls if g.family in _CONTROL_KEYS}
        for _, row in result.stats.iterrows():
            key = labels.get(row["group"])
            if key is None:
                continue
            for measure, prefix in (("eeg_improvement", "eeg"), ("fmri_improvement", "fmri")):
                if row["measure"] == measure:
                    out.update({f"{prefix}_{key}_t": row["t"], f"{prefix}_{key}_p": row["p"],
                                f"{prefix}_{key}_d": row["cohens_d"]})
                elif row["measure"] == f"{measure} vs {data.main.label}":
                    out.update({f"{prefix}_{key}_vs_realnet_t": row["t"], f"{prefix}_{key}_vs_realnet_p": row["p"],
                                f"{prefix}_{key}_vs_realnet_d": row["cohens_d"]})
        return out

    attempt([k for k in ("windows_V1", "windows_V2", "windows_V4", "windows_IT")], windows)
    attempt(["peak_improvement_max", "peak_ratio_max"], peaks)
    attempt(["matched_t", "matched_p"], matched)
    attempt(["eeg_fmri_r"], correlation)
    attempt([v.key for v in PAPER_VALUES if v.key.startswith("behaviour")], behaviour)
    attempt([v.key for v in PAPER_VALUES if v.key.startswith(("eeg_", "fmri_"))], controls)
    main_names = {m.short_name for m in data.main.models}
    for frame, mapping, what in ((fidelity, {"fidelity_spearman": "spearman",
                                             "fidelity_feature_pearson": "pearson_mean_feature"}, "fidelity"),
                                 (imagenet, {"imagenet_top1": "top1", "imagenet_top5": "top5"}, "ImageNet accuracy")):
        rows = None if frame is None or frame.empty else frame[frame["model"].isin(main_names)]
        for key, column in mapping.items():
            if rows is None or rows.empty:
                missing.setdefault(key, f"no {what} of the ReAlnets"
                                   + (" (pass --imagenet-val DIR)" if what.startswith("ImageNet") else ""))
            else:
                ours[key] = float(rows[column].mean())
    return ours, missing


def verify_paper(
    *,
    models: Sequence[str] = ("realnet_s*",),
    base: str = "realnet_base_cornet_s",
    controls: Sequence[str] = PAPER_CONTROLS,
    behaviour: bool = True,
    imagenet_val: str | None = None,
    score_store: ScoreStore | None = None,
    package_shape: Callable[[], tuple[int, int]] | None = _package_shape,
    retry_failed: bool = False,
    progress: bool | None = None,
) -> Verification:
    """Recompute the paper's headline numbers from the stored scores and set them beside the paper's.

    Args:
        models: the ReAlnets (the published checkpoints, imported as ``realnet_sNN``).
        base: the base model (imported ImageNet CORnet-S).
        controls: the control groups of Fig. 5.
        behaviour: include the behavioural benchmarks (need Brain-Score's data).
        imagenet_val: a labelled ImageNet validation folder for top-1/top-5 (see :mod:`.imagenet`).
        score_store: the score store (default ``$REALNET_HOME/scores`` with Brain-Score).
        package_shape: ``() → (n_subjects, n_test_images)`` of the THINGS-EEG2 package, for the banner.
        retry_failed: score again what failed in an earlier run.
        progress: progress bars while scoring.

    Returns:
        :class:`Verification`.
    """
    from realnet_plugins.report.fidelity import fidelity_table

    collected = collect_report_data(models, base=base, controls=controls, behaviour=behaviour,
                                    score_store=score_store, with_rdms=False, retry_failed=retry_failed,
                                    progress=progress)
    main: ModelGroup = collected.data.main
    checkpoints = [m for m in main.models if m.checkpoint is not None]
    fidelity = None
    try:
        fidelity = fidelity_table([(main.label, checkpoints)], progress=progress)
    except Exception as error:  # noqa: BLE001 - reported as missing below
        collected.notes.append(f"fidelity: {error}")
    imagenet = None
    if imagenet_val is not None:
        from realnet_plugins.report.imagenet import imagenet_accuracy, read_labelled_folder

        imagenet = pd.DataFrame(imagenet_accuracy(checkpoints, read_labelled_folder(imagenet_val), progress=progress))
    ours, missing = _ours(collected, fidelity, imagenet)
    rows = []
    for value in PAPER_VALUES:
        mine = ours.get(value.key, float("nan"))
        numeric = isinstance(mine, (int, float, np.floating)) and np.isfinite(float(mine))
        note = value.note
        if value.key not in ours:
            note = "; ".join(filter(None, [note, "not computed: " + missing.get(value.key, "model or data missing")]))
        rows.append({"key": value.key, "quantity": value.quantity, "paper": value.text, "paper_value": value.value,
                     "ours": float(mine) if numeric else mine,
                     "difference": float(mine) - value.value if numeric and np.isfinite(value.value) else float("nan"),
                     "source": value.source, "note": note})
    return Verification(pd.DataFrame(rows), _banner(collected, package_shape))
