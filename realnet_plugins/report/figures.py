"""Figures in the paper's style, drawn from the analysis tables (:mod:`.analyses`).

Every function takes the tables the report writes as CSV and plots exactly their numbers: lines and
shading are mean ± SEM, dots individual models, bars means with SEM error bars. Figures are
:class:`matplotlib.figure.Figure` objects drawn with the Agg canvas (no pyplot, no display needed).
Each plotted line and bar carries a ``gid`` ``"<group>|<layer or x>"`` so that tests can find it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg", force=False)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

#: Colours of the paper's model families (by legend label).
FAMILY_COLOURS: dict[str, str] = {
    "ReAlnet": "#E8772E", "ReAlnet-R": "#E8772E", "CORnet-S": "#1B3A6B", "ResNet18": "#1B3A6B",
    "Scrambled": "#8E8E8E", "Unpaired": "#B5544B", "W/o ContLoss": "#4C9A6A", "W/o MSELoss": "#8C6BB1",
    "ReAlnet β=0": "#A0785A", "ReAlnet β=1": "#F5C89A", "ReAlnet β=10": "#F0A463", "ReAlnet β=1000": "#B4521A",
    "ReAlnet-AcrossSub": "#2A9DB5",
}
_FALLBACK_COLOURS = ("#C9A227", "#6A3D9A", "#D6609F", "#17A2B8", "#7A9A3A", "#5E5E5E", "#9C3D6E")
HUMAN_COLOUR = "#444444"
STYLE = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9, "xtick.labelsize": 9,
    "ytick.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.8,
    "savefig.dpi": 150, "font.family": "DejaVu Sans",
}
RHO = "Spearman ρ"


def colours(labels: Iterable[str]) -> dict[str, str]:
    """A colour per label: the paper's family colours (also for ``"<family>: ..."``), then a fixed cycle."""
    out, spare = {}, iter(_FALLBACK_COLOURS * 4)
    for label in labels:
        out[label] = FAMILY_COLOURS.get(label) or FAMILY_COLOURS.get(label.split(":")[0]) or next(spare)
    return out


def add_data_label(fig: Figure, label: str) -> None:
    """Add what the data are (``"synthetic fixture data, random-init 32 px nets"``) as the title's last line.

    A figure without a title gets the label as its title. The title keeps its font size.
    """
    title = fig.get_suptitle()
    size = next((text.get_fontsize() for text in fig.texts if title and text.get_text() == title), None)
    fig.suptitle(f"{title}\n{label}" if title else label, **({"fontsize": size} if size else {}))


def _figure(n_panels: int, *, panel_width: float = 3.2, height: float = 3.0, ncols: int | None = None,
            sharey: bool = False) -> tuple[Figure, np.ndarray]:
    ncols = ncols or n_panels
    nrows = int(np.ceil(n_panels / ncols))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(panel_width * ncols, height * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes[:n_panels]


def _jitter(n: int, width: float = 0.22, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-width / 2, width / 2, n) if n > 1 else np.zeros(n)


def _stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _cluster_sample_limit(n_subjects: int) -> str:
    """Legend remark when a two-sided sign-flip test over ``n_subjects`` cannot reach p < .05 (1 / 2^(n−1) ≥ .05)."""
    if 2.0 ** -(n_subjects - 1) < 0.05:
        return ""
    return f": none possible with n = {n_subjects}, needs ≥ 6"


def plot_time_courses(curves: pd.DataFrame, marks: pd.DataFrame, *, main_label: str, title: str,
                      layers: Sequence[str] | None = None) -> Figure:
    """Mean ± SEM RSA time courses per layer with significance marks below the curves (Fig. 1B, 2A, 2C).

    Below the curves, one row per compared group in its colour: squares where the two-sided paired
    t-test gives p < .05 uncorrected (the paper's marks) and, just under them, a bar over the time
    points of significant clusters of the cluster-based permutation test (this project's addition).

    Args:
        curves: group, layer, time_ms, mean, sem, n.
        marks: comparison, layer, time_ms, uncorrected_significant, cluster_significant.
        main_label: the ReAlnets' label (the compared group).
        title: figure title.
        layers: panel order (default: as in ``curves``).
    """
    layers = list(layers or dict.fromkeys(curves["layer"]))
    groups = list(dict.fromkeys(curves["group"]))
    palette = colours(groups)
    comparisons = list(dict.fromkeys(marks["comparison"])) if not marks.empty else []
    fig, axes = _figure(len(layers), panel_width={1: 5.6, 2: 4.4}.get(len(layers), 3.4), height=3.7, sharey=True)
    low = float((curves["mean"] - curves["sem"].fillna(0)).min())
    high = float((curves["mean"] + curves["sem"].fillna(0)).max())
    span = max(high - low, 1e-3)
    row = 0.075 * span
    for ax, layer in zip(axes, layers):
        for group in groups:
            part = curves[(curves["group"] == group) & (curves["layer"] == layer)].sort_values("time_ms")
            if part.empty:
                continue
            x, mean, sem = part["time_ms"].to_numpy(), part["mean"].to_numpy(), part["sem"].to_numpy()
            width = 2.2 if group == main_label else 1.6
            ax.plot(x, mean, color=palette[group], lw=width, label=group, gid=f"{group}|{layer}",
                    zorder=3 if group == main_label else 2)
            if np.isfinite(sem).any():
                ax.fill_between(x, mean - sem, mean + sem, color=palette[group], alpha=0.22, lw=0, zorder=1)
        for k, comparison in enumerate(comparisons):
            part = marks[(marks["comparison"] == comparison) & (marks["layer"] == layer)]
            colour = palette.get(comparison, "#000000")
            y_square = low - (k + 0.8) * row
            significant = part[part["uncorrected_significant"].astype(bool)]
            ax.plot(significant["time_ms"], np.full(len(significant), y_square), ls="none", marker="s", ms=3.6,
                    color=colour, gid=f"marks|{comparison}|{layer}")
            for t in part.loc[part["cluster_significant"].astype(bool), "time_ms"]:
                ax.plot([t - 5, t + 5], [y_square - 0.33 * row] * 2, color=colour, lw=1.6, solid_capstyle="butt")
        ax.axhline(0, color="#BBBBBB", lw=0.7, zorder=0)
        ax.set_title(layer if layer.startswith(("max", "early", "late")) else f"Layer {layer}")
        ax.set_xlabel("Time (ms)")
        ax.set_xlim(curves["time_ms"].min() - 5, curves["time_ms"].max() + 5)
        ax.set_ylim(low - (len(comparisons) + 0.4) * row, high + 0.08 * span)
    axes[0].set_ylabel(f"RSA ({RHO})")
    handles = [Line2D([], [], color=palette[g], lw=2.2, label=g) for g in groups]
    if comparisons:
        handles += [
            Line2D([], [], ls="none", marker="s", ms=5, color="#555555",
                   label=f"{main_label} ≠ that colour, p < .05 (as in the paper)"),
            Line2D([], [], lw=1.8, color="#555555", label="cluster-corrected (our addition)"
                   + _cluster_sample_limit(int(marks["n_pairs"].max()))),
        ]
    width_in = fig.get_size_inches()[0]
    fig.legend(handles=handles, loc="outside lower center", frameon=False, columnspacing=1.2, handlelength=1.6,
               ncol=min(len(handles), max(2, int(width_in / 2.0))))
    fig.suptitle(title)
    return fig


def _bars_with_dots(ax, x: float, values: np.ndarray, colour: str, gid: str, width: float = 0.7,
                    seed: int = 0) -> None:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    mean = values.mean()
    sem = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else np.nan
    bars = ax.bar([x], [mean], width=width, color=colour, alpha=0.55, edgecolor=colour, lw=1.0, zorder=1)
    bars.patches[0].set_gid(gid)
    if np.isfinite(sem):
        ax.errorbar([x], [mean], yerr=[sem], color="#222222", capsize=3, lw=1.1, zorder=3)
    if values.size > 1:
        ax.scatter(x + _jitter(values.size, width * 0.6, seed), values, s=14, color=colour, edgecolor="white",
                   lw=0.5, zorder=4)


def plot_peak_improvements(values: pd.DataFrame, stats: pd.DataFrame, *, main_label: str, base_label: str) -> Figure:
    """Fig. 2B: improvement and improvement ratio at each layer's peak (bars ± SEM, dots = models)."""
    layers = list(dict.fromkeys(values["layer"]))
    fig, axes = _figure(2, panel_width=4.0, height=3.2)
    colour = colours([main_label])[main_label]
    for ax, measure, label in zip(axes, ("improvement", "ratio"),
                                  (f"Improvement (Δ {RHO})", "Improvement ratio")):
        for i, layer in enumerate(layers):
            column = values.loc[values["layer"] == layer, measure].to_numpy()
            _bars_with_dots(ax, i, column, colour, gid=f"{measure}|{layer}", seed=i)
            row = stats[(stats["layer"] == layer) & (stats["measure"] == measure)]
            if not row.empty and _stars(float(row["p"].iloc[0])):
                top = np.nanmax(column)
                ax.text(i, top, _stars(float(row["p"].iloc[0])), ha="center", va="bottom", fontsize=11)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xticks(range(len(layers)), [f"Layer {layer}" for layer in layers])
        ax.set_ylabel(label)
        peak_times = values.drop_duplicates("layer").set_index("layer")["peak_time_ms"]
        ax.set_xlabel("peak at " + ", ".join(f"{layer}: {peak_times[layer]:.0f} ms" for layer in layers), fontsize=8)
    axes[1].yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    n_models = values["model"].nunique()
    test = ("one-sample t-test against 0: * p < .05, ** p < .01, *** p < .001" if n_models >= 2 else
            f"no t-test: it needs ≥ 2 {main_label}s, found {n_models}")
    fig.suptitle(f"{main_label} − {base_label} at each layer's similarity peak\n{test}", fontsize=10)
    return fig


def plot_cross_subject(cells: pd.DataFrame, matched: pd.DataFrame, test: pd.DataFrame, *, base_label: str,
                       normalised_reason: str) -> Figure:
    """Fig. 2E–G: model × subject matrices and matched vs unmatched."""
    models = list(dict.fromkeys(cells["model"]))
    subjects = list(dict.fromkeys(cells["subject"]))
    panels = [("similarity", f"E  similarity ({RHO})", "viridis", False),
              ("baseline_subtracted", f"F  minus {base_label}", "RdBu_r", True)]
    if not normalised_reason:
        panels.append(("normalised", "G  column-normalised (F)", "magma", False))
    n_panels = len(panels) + (1 if not matched.empty else 0)
    fig, axes = _figure(n_panels, panel_width=3.6, height=3.4)
    for ax, (column, title, cmap, centred) in zip(axes, panels):
        grid = cells.pivot(index="model", columns="subject", values=column).loc[models, subjects].to_numpy()
        limit = np.nanmax(np.abs(grid)) if centred else None
        image = ax.imshow(grid, cmap=cmap, vmin=-limit if centred else None, vmax=limit, aspect="auto")
        image.set_gid(f"matrix|{column}")
        ax.set_xticks(range(len(subjects)), [s.replace("sub-", "S") for s in subjects], rotation=90 if
                      len(subjects) > 6 else 0)
        ax.set_yticks(range(len(models)), models, fontsize=8 if len(models) > 6 else 9)
        ax.set_xlabel("EEG subject")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.85)
        for i in range(len(models)):
            ax.add_patch(matplotlib.patches.Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2, ec="white"))
    if not matched.empty:
        ax = axes[-1]
        colour = colours(["ReAlnet"])["ReAlnet"]
        for _, row in matched.iterrows():
            ax.plot([0, 1], [row["matched"], row["unmatched"]], color="#BBBBBB", lw=0.8, zorder=1)
        _bars_with_dots(ax, 0, matched["matched"].to_numpy(), colour, gid="matched")
        _bars_with_dots(ax, 1, matched["unmatched"].to_numpy(), "#8E8E8E", gid="unmatched", seed=1)
        ax.set_xticks([0, 1], ["matched", "unmatched"])
        ax.set_ylabel(matched["values"].iloc[0].replace("_", " ") + " similarity")
        if not test.empty:
            t, p = float(test["t"].iloc[0]), float(test["p"].iloc[0])
            ax.set_title(f"matched vs unmatched\nt = {t:.2f}, p = {p:.3g} {_stars(p)}")
    fig.suptitle("Cross-subject similarity: each personalised model (rows) against each subject's EEG (columns); "
                 "mean over layers and 50–190 ms", fontsize=10)
    return fig


def plot_variability(pairs: pd.DataFrame, summary: pd.DataFrame, *, matrix_set: str, title: str) -> Figure:
    """Fig. 2D: pairwise variability matrices of one set per layer (top) and the mean per layer of every set.

    Args:
        pairs: set, layer, model_a, model_b, variability.
        summary: set, layer, mean, sem, n_pairs.
        matrix_set: the set whose matrices are drawn.
        title: figure title.
    """
    layers = list(dict.fromkeys(pairs.loc[pairs["set"] == matrix_set, "layer"]))
    sets = list(dict.fromkeys(summary["set"]))
    model_sets = [s for s in sets if not s.startswith("human")]
    human_sets = [s for s in sets if s.startswith("human")]
    panels = [shown for shown in (model_sets, human_sets) if shown]
    palette = colours(sets)
    palette.update({s: HUMAN_COLOUR for s in human_sets})
    subset = pairs[pairs["set"] == matrix_set]
    names = list(dict.fromkeys(list(subset["model_a"]) + list(subset["model_b"])))
    ticks = [n.rsplit("_", 1)[-1].upper() if n.startswith("realnet") else n for n in names]
    vmax = float(subset["variability"].max()) if not subset.empty else 1.0
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(2.5 * len(layers), 4.2 * len(panels)) + 0.8, 6.6), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.2])
        matrix_axes = np.atleast_1d(top.subplots(1, len(layers)))
        image = None
        for ax, layer in zip(matrix_axes, layers):
            matrix = np.zeros((len(names), len(names)))
            for _, row in subset[subset["layer"] == layer].iterrows():
                a, b = names.index(row["model_a"]), names.index(row["model_b"])
                matrix[a, b] = matrix[b, a] = row["variability"]
            image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=vmax)
            image.set_gid(f"variability|{layer}")
            ax.set_title(f"Layer {layer}" if layer != "output" else "Output layer")
            ax.set_xticks(range(len(names)), ticks, rotation=90, fontsize=7)
            ax.set_yticks(range(len(names)), ticks, fontsize=7)
        if image is not None:
            top.colorbar(image, ax=list(matrix_axes), shrink=0.85, label="1 − Spearman ρ")
        bar_axes = np.atleast_1d(bottom.subplots(1, len(panels), width_ratios=[
            len(dict.fromkeys(summary.loc[summary["set"].isin(shown), "layer"])) for shown in panels]))
    for ax, shown in zip(bar_axes, panels):
        shown_layers = list(dict.fromkeys(summary.loc[summary["set"].isin(shown), "layer"]))
        width = 0.8 / len(shown)
        for k, name in enumerate(shown):
            for i, layer in enumerate(shown_layers):
                values = pairs.loc[(pairs["set"] == name) & (pairs["layer"] == layer), "variability"].to_numpy()
                x = i + (k - (len(shown) - 1) / 2) * width
                _bars_with_dots(ax, x, values, palette[name], gid=f"{name}|{layer}", width=width * 0.9, seed=i + k)
        ax.set_xticks(range(len(shown_layers)), [("Output" if layer == "output" else layer) for layer in shown_layers])
        ax.set_ylabel("Individual variability\n(1 − Spearman ρ between RDMs)")
        ax.spines[["top", "right"]].set_visible(False)
        if len(shown) == 1:
            ax.set_title(shown[0] + (" (pairs of subjects)" if shown[0].startswith("human") else " (pairs of models)"))
        else:
            ax.legend(handles=[Patch(color=palette[name], alpha=0.7, label=name) for name in shown], frameon=False)
    fig.suptitle(title)
    return fig


def plot_grouped_bars(values: pd.DataFrame, *, panel_column: str, x_column: str, value_column: str,
                      group_order: Sequence[str], ylabel: str, title: str,
                      significance: pd.DataFrame | None = None, panel_titles: dict[str, str] | None = None,
                      zero_line: bool = False, panel_width: float = 4.2, sharey: bool = False,
                      significance_labels: tuple[str, str] | None = None) -> Figure:
    """Bars (mean ± SEM over models) with dots per model, one bar per group at each x, one panel per value of
    ``panel_column``.

    Args:
        values: one row per model and (panel, x).
        panel_column, x_column, value_column: columns of ``values``.
        group_order: groups in bar order (the first is the ReAlnets).
        ylabel, title: labels.
        significance: rows panel, x, comparison (group label), p (corrected where applicable), higher
            (bool); an asterisk is drawn above the compared group's bar where p < .05, black when
            ``higher``, grey otherwise.
        panel_titles: display titles of the panels.
        zero_line: draw y = 0.
        panel_width: inches per panel.
        sharey: panels share the y axis.
        significance_labels: legend texts of the black and the grey asterisk (default: the first
            group higher / lower than the starred group).
    """
    panels = list(dict.fromkeys(values[panel_column]))
    groups = [g for g in group_order if (values["group"] == g).any()]
    palette = colours(groups)
    fig, axes = _figure(len(panels), panel_width=panel_width, height=3.4, sharey=sharey)
    width = 0.8 / max(len(groups), 1)
    for ax, panel in zip(axes, panels):
        part = values[values[panel_column] == panel]
        xs = list(dict.fromkeys(part[x_column]))
        top = float(part[value_column].max())
        span = max(top - min(float(part[value_column].min()), 0.0), 1e-6)
        for k, group in enumerate(groups):
            for i, x in enumerate(xs):
                column = part.loc[(part["group"] == group) & (part[x_column] == x), value_column].to_numpy()
                position = i + (k - (len(groups) - 1) / 2) * width
                _bars_with_dots(ax, position, column, palette[group], gid=f"{group}|{panel}|{x}", width=width * 0.92,
                                seed=i + k)
                if significance is not None and not significance.empty:
                    hit = significance[(significance["panel"] == panel) & (significance["x"] == x)
                                       & (significance["comparison"] == group) & (significance["p"] < 0.05)]
                    if not hit.empty:
                        ax.text(position, top + 0.03 * span, "*", ha="center", va="bottom", fontsize=12,
                                color="#000000" if bool(hit["higher"].iloc[0]) else "#9A9A9A")
        if zero_line:
            ax.axhline(0, color="#888888", lw=0.8)
        if len(xs) == 1:
            shown = [g for g in groups if ((part["group"] == g) & part[value_column].notna()).any()]
            positions = [(groups.index(g) - (len(groups) - 1) / 2) * width for g in shown]
            long_names = max(len(g) for g in shown) * len(shown) > 40
            ax.set_xticks(positions, shown, rotation=30 if long_names else 0, ha="right" if long_names else "center")
        else:
            long_names = max(len(str(x)) for x in xs) > 8
            ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=30 if long_names else 0,
                          ha="right" if long_names else "center")
        ax.set_title((panel_titles or {}).get(panel, str(panel)))
        ax.set_ylim(top=top + 0.18 * span)
    axes[0].set_ylabel(ylabel)
    handles = [Patch(color=palette[g], alpha=0.7, label=g) for g in groups]
    if significance is not None and not significance.empty and (significance["p"] < 0.05).any():
        higher, lower = significance_labels or (f"{groups[0]} higher than the starred group (p < .05)",
                                                f"{groups[0]} lower than the starred group (p < .05)")
        handles += [Line2D([], [], ls="none", marker="$*$", ms=9, color="#000000", label=higher),
                    Line2D([], [], ls="none", marker="$*$", ms=9, color="#9A9A9A", label=lower)]
    width_in = fig.get_size_inches()[0]
    fig.legend(handles=handles, loc="outside lower center", frameon=False,
               ncol=min(len(handles), max(2, int(width_in / 2.2))))
    fig.suptitle(title)
    return fig


def plot_improvement_correlation(values: pd.DataFrame, correlation: pd.DataFrame, *, main_label: str) -> Figure:
    """Supplementary Fig. 3: the ReAlnets' EEG improvement against their fMRI improvement."""
    fig, axes = _figure(1, panel_width=3.8, height=3.4)
    ax = axes[0]
    colour = colours([main_label])[main_label]
    part = values[values["group"] == main_label].dropna(subset=["eeg_improvement", "fmri_improvement"])
    ax.scatter(part["eeg_improvement"], part["fmri_improvement"], color=colour, s=26, edgecolor="white", gid="points")
    if len(part) >= 2:
        slope, intercept = np.polyfit(part["eeg_improvement"], part["fmri_improvement"], 1)
        xs = np.linspace(part["eeg_improvement"].min(), part["eeg_improvement"].max(), 2)
        ax.plot(xs, slope * xs + intercept, color=colour, lw=1.2)
    for _, row in part.iterrows():
        ax.annotate(str(row["subject"]).replace("sub-", "S"), (row["eeg_improvement"], row["fmri_improvement"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.set_xlabel(f"EEG improvement ({RHO})")
    ax.set_ylabel(f"fMRI improvement ({RHO})")
    r, p = float(correlation["r"].iloc[0]), float(correlation["p"].iloc[0])
    ax.set_title(f"{main_label}s: r = {r:.3f}, p = {p:.3g} (n = {int(correlation['n'].iloc[0])})")
    return fig


def plot_beta_sweep(values: pd.DataFrame, *, base_label: str) -> Figure:
    """The β sweep: EEG and fMRI improvement over the base model against β (mean ± SEM, dots = models)."""
    measures = [m for m in ("eeg_improvement", "fmri_improvement") if values[m].notna().any()]
    fig, axes = _figure(len(measures), panel_width=3.8, height=3.3)
    betas = sorted(values["beta"].dropna().unique())
    colour = colours(["ReAlnet"])["ReAlnet"]
    for ax, measure in zip(axes, measures):
        means = []
        for i, beta in enumerate(betas):
            column = values.loc[values["beta"] == beta, measure].dropna().to_numpy()
            _bars_with_dots(ax, i, column, colour, gid=f"beta|{measure}|{beta:g}", width=0.6, seed=i)
            means.append(column.mean() if column.size else np.nan)
        ax.plot(range(len(betas)), means, color="#333333", lw=1, marker="o", ms=3, zorder=5)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas])
        ax.set_xlabel("β (weight of the EEG generation loss)")
        ax.set_title("EEG (mean over layers, 50–190 ms)" if measure.startswith("eeg") else
                     "fMRI (natural images, mean over subjects and ROIs)", fontsize=10)
    axes[0].set_ylabel(f"Improvement over {base_label}\n(Δ {RHO})")
    fig.suptitle("β sweep: improvement over the base model (bars: mean ± SEM; dots: models)")
    return fig


def plot_fidelity(table: pd.DataFrame) -> Figure:
    """EEG-generation fidelity per group: whole-array Spearman and mean per-feature Pearson (dots = checkpoints)."""
    groups = list(dict.fromkeys(table["group"]))
    palette = colours(groups)
    fig, axes = _figure(2, panel_width=max(3.0, 0.9 * len(groups) + 1.5), height=3.4)
    for ax, column, label in zip(axes, ("spearman", "pearson_mean_feature"),
                                 ("Spearman ρ, whole array\n(images × channels × times)",
                                  "Pearson r across images,\nmean over 340 features")):
        for i, group in enumerate(groups):
            _bars_with_dots(ax, i, table.loc[table["group"] == group, column].to_numpy(), palette[group],
                            gid=f"{group}|{column}", seed=i)
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xticks(range(len(groups)), groups, rotation=30 if len(groups) > 3 else 0,
                      ha="right" if len(groups) > 3 else "center")
        ax.set_ylabel(label)
    fig.suptitle("EEG-generation fidelity on the THINGS-EEG2 test images")
    return fig


def plot_imagenet(table: pd.DataFrame) -> Figure:
    """ImageNet top-1 and top-5 accuracy (%) per group (dots = checkpoints)."""
    groups = list(dict.fromkeys(table["group"]))
    palette = colours(groups)
    fig, axes = _figure(2, panel_width=max(3.0, 0.9 * len(groups) + 1.5), height=3.2, sharey=True)
    for ax, column in zip(axes, ("top1", "top5")):
        for i, group in enumerate(groups):
            _bars_with_dots(ax, i, table.loc[table["group"] == group, column].to_numpy(), palette[group],
                            gid=f"{group}|{column}", seed=i)
        ax.set_xticks(range(len(groups)), groups, rotation=30 if len(groups) > 3 else 0,
                      ha="right" if len(groups) > 3 else "center")
        ax.set_title("Top-1" if column == "top1" else "Top-5")
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("ImageNet accuracy (%)")
    fig.suptitle(f"ImageNet validation accuracy ({int(table['n_images'].iloc[0])} labelled images)")
    return fig
