"""The catalogue of what ``realnet fetch`` can download, and where each address and hash comes from.

Nothing here types a URL or a hash that cannot be checked: weight locations are read from the
installed Brain-Score plugins and torchvision, dataset files and their hashes from the repository's
public API at run time. Each source names its authority in a comment.

A source plans a list of :class:`Item` s: one remote file each, what it must hash to, and what
happens once it is in place (kept, imported as a checkpoint, or unpacked).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from realnet_plugins.errors import DataFormatError
from realnet_plugins.fetch import listings
from realnet_plugins.fetch.listings import ListedFile

#: What happens to a file once it is in place.
ACTIONS = ("keep", "import", "unpack-folder", "unpack-subject")

#: The two files of one THINGS-EEG2 subject (FORMATS.md).
THINGS_EEG2_FILES = ("preprocessed_eeg_training.npy", "preprocessed_eeg_test.npy")

# Authority for the dataset locations. THINGS-EEG2 (Gifford et al. 2022, NeuroImage 264:119754) is OSF
# project 3jk45 (the paper's data availability statement, https://osf.io/3jk45/); its components
# "Preprocessed EEG data" (https://osf.io/anp5v/) and "Image set" (https://osf.io/y63gw/, whose wiki
# describes training_images/ and test_images/) hold the files read here. The Shen et al. 2019
# preprocessed fMRI files are figshare article 7033577 (the paper's data availability statement;
# KamitaniLab/DeepImageReconstruction's data/fmri/README.md). The SPoSE embedding of Hebart et al.
# 2020 is in the OSF project of that paper, https://osf.io/z2784/ (folder data/). File names, sizes
# and hashes are never typed here: they come from the OSF / figshare API at run time.
THINGS_EEG2_PROJECT = "3jk45"
THINGS_EEG2_PREPROCESSED_NODE = "anp5v"
THINGS_EEG2_IMAGES_NODE = "y63gw"
SHEN2019_FIGSHARE_ARTICLE = 7033577
SPOSE_NODE = "z2784"
SPOSE_EMBEDDING = "spose_embedding_49d_sorted.txt"
SPOSE_EXTRAS = ("labels.mat", "labels_short.mat", "unique_id.txt")

_TORCHVISION_HASH = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Item:
    """One remote file and what to do with it.

    Attributes:
        source: catalogue name (``realnet-weights``, ``things-eeg2``, ...).
        path: the file's path in its release: the mirror serves it at ``<mirror>/<source>/<path>``.
        url: the origin address.
        published: the published hash ``alg:hex``, or ``None`` when the origin publishes none.
        published_from: where ``published`` (or ``sha256_prefix``) comes from.
        target: where it ends, relative to the source's folder (a file, or a folder for unpack actions).
        action: one of :data:`ACTIONS`.
        size: the size the listing states, in bytes.
        sha256_prefix: a leading part of the sha256 published in the file name (torchvision).
        identifier: the checkpoint identifier an ``import`` makes.
        unpack_name: the top folder name of an ``unpack-folder`` archive.
    """

    source: str
    path: str
    url: str
    published: str | None
    published_from: str
    target: str
    action: str = "keep"
    size: int | None = None
    sha256_prefix: str | None = None
    identifier: str | None = None
    unpack_name: str | None = None

    @property
    def key(self) -> str:
        """``<source>/<path>``: the file's name in the fetch record, whatever the mirror."""
        return f"{self.source}/{self.path}"


@dataclass
class PlanContext:
    """What a source's planner may use: the chosen subjects, the mirror, the retry budget."""

    subjects: tuple[int, ...] | None
    mirror: str | None
    retries: int = 3
    listing_notes: list[str] = field(default_factory=list)

    def listing(self, source: str, read_api: Callable[[], list[ListedFile]], origin: str) -> list[ListedFile]:
        """The source's listing: from the mirror's ``listing.json``, else from the API (and recorded)."""
        if self.mirror:
            return listings.mirror_listing(self.mirror, source, retries=self.retries)
        files = read_api()
        path = listings.record_listing(source, origin, files)
        self.listing_notes.append(f"{source}: listing of {len(files)} file(s) read from {origin}, kept at {path}")
        return files


@dataclass(frozen=True)
class Source:
    """A downloadable thing.

    Attributes:
        name: what users type.
        folder: the subfolder of the destination it lands in.
        title: one line: what it is.
        origin: where it comes from and where its hashes come from.
        subjects: the subject numbers it is published for (``--subjects``), or ``None``.
        plan: the planner.
        note: said after fetching (what it does not fetch, what to run next); ``{folder}`` is its folder.
    """

    name: str
    folder: str
    title: str
    origin: str
    subjects: tuple[int, ...] | None
    plan: Callable[[PlanContext], list[Item]]
    note: str = ""


def _chosen(ctx: PlanContext, available: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s for s in (ctx.subjects or available) if s in available)


# ----------------------------------------------------------------------------------------------- weights
def _plan_realnet(ctx: PlanContext) -> list[Item]:
    # Authority: Brain-Score's in-tree ReAlnet plugin (models/ReAlnet/weights.json and model.py), read at run time.
    from realnet_plugins.fetch.brainscore_files import published_realnet_weights

    published = published_realnet_weights()
    missing = [s for s in ctx.subjects or () if s not in published]
    if missing:
        raise DataFormatError(f"Brain-Score's ReAlnet plugin lists subjects {sorted(published)}; not {missing}")
    return [Item(source="realnet-weights", path=f.relative_path, url=f.url, published=f"sha1:{f.sha1}",
                 published_from="the sha1 in Brain-Score's models/ReAlnet/weights.json, which Brain-Score marks "
                                "deprecated and never checks",
                 target=f.relative_path, action="import", identifier=f"realnet_s{subject:02d}")
            for subject, f in sorted(published.items()) if subject in _chosen(ctx, tuple(published))]


def _plan_cornet_s(ctx: PlanContext) -> list[Item]:
    # Authority: Brain-Score's in-tree cornet_s plugin (models/cornet_s/model.py), read at run time.
    from realnet_plugins.fetch.brainscore_files import cornet_s_weights

    f = cornet_s_weights()
    return [Item(source="cornet-s", path=f.relative_path, url=f.url, published=f"sha1:{f.sha1}",
                 published_from="the sha1 in Brain-Score's models/cornet_s/model.py",
                 target=f.relative_path, action="import", identifier="realnet_base_cornet_s")]


def _plan_resnet18(ctx: PlanContext) -> list[Item]:
    # Authority: the installed torchvision's weights record, ResNet18_Weights.IMAGENET1K_V1.url; torchvision
    # publishes the first hex digits of the file's sha256 in its name (torch.hub's check_hash convention).
    try:
        from torchvision.models import ResNet18_Weights
    except ImportError:
        raise DataFormatError("torchvision is needed to read the ResNet18 weights' published address") from None
    url = ResNet18_Weights.IMAGENET1K_V1.url
    name = url.rsplit("/", 1)[-1]
    match = _TORCHVISION_HASH.search(name)
    if match is None:
        raise DataFormatError(f"torchvision's ResNet18 file name {name!r} carries no sha256 prefix")
    return [Item(source="resnet18", path=name, url=url, published=None, sha256_prefix=match.group(1),
                 published_from="the prefix published in torchvision's file name, ResNet18_Weights.IMAGENET1K_V1.url",
                 target=name, action="import", identifier="realnet_base_resnet18")]


# ---------------------------------------------------------------------------------------------- datasets
def _osf_item(source: str, listed: ListedFile, node: str, target: str, **extra) -> Item:
    return Item(source=source, path=listed.path, url=listed.url, published=listed.known_hash,
                published_from=f"OSF's file metadata for node {node}", target=target, size=listed.size, **extra)


def _plan_things_eeg2(ctx: PlanContext) -> list[Item]:
    node = THINGS_EEG2_PREPROCESSED_NODE
    files = ctx.listing("things-eeg2", lambda: listings.list_osf_files(node, retries=ctx.retries),
                        f"{listings.osf_api()}/nodes/{node}/files/osfstorage/")
    items: list[Item] = []
    for subject in _chosen(ctx, tuple(range(1, 11))):
        mine = re.compile(rf"(?:^|/)sub-0*{subject}(?:\.zip$|/)")
        matched = [f for f in files if mine.search(f.path)]
        loose = [f for f in matched if f.path.rsplit("/", 1)[-1] in THINGS_EEG2_FILES]
        zips = [f for f in matched if f.path.endswith(".zip")]
        folder = f"preprocessed_data/sub-{subject:02d}"
        if len(loose) == len(THINGS_EEG2_FILES):
            items += [_osf_item("things-eeg2", f, node, f"{folder}/{f.path.rsplit('/', 1)[-1]}") for f in loose]
        elif len(zips) == 1:
            items.append(_osf_item("things-eeg2", zips[0], node, folder, action="unpack-subject"))
        else:
            raise DataFormatError(
                f"OSF node {node} lists no single sub-{subject:02d}.zip or sub-{subject:02d}/ with "
                f"{' and '.join(THINGS_EEG2_FILES)}; it lists {[f.path for f in files][:12]}"
            )
    return items


def _plan_things_eeg2_images(ctx: PlanContext) -> list[Item]:
    node = THINGS_EEG2_IMAGES_NODE
    files = ctx.listing("things-eeg2-images", lambda: listings.list_osf_files(node, retries=ctx.retries),
                        f"{listings.osf_api()}/nodes/{node}/files/osfstorage/")
    wanted = {"image_metadata.npy": ("image_set/image_metadata.npy", "keep", None),
              "training_images.zip": ("image_set/training_images", "unpack-folder", "training_images"),
              "test_images.zip": ("image_set/test_images", "unpack-folder", "test_images")}
    items = []
    for name, (target, action, folder) in wanted.items():
        hits = [f for f in files if f.path.rsplit("/", 1)[-1] == name]
        if len(hits) != 1:
            raise DataFormatError(f"OSF node {node} should list one {name}; it lists {[f.path for f in files][:12]}")
        items.append(_osf_item("things-eeg2-images", hits[0], node, target, action=action, unpack_name=folder))
    return items


def _plan_shen2019(ctx: PlanContext) -> list[Item]:
    from realnet_plugins.datasets.shen2019.reader import IMAGE_SET_SESSIONS, SHEN_SUBJECTS

    article = SHEN2019_FIGSHARE_ARTICLE
    files = ctx.listing("shen2019", lambda: listings.list_figshare_files(article, retries=ctx.retries),
                        f"{listings.figshare_api()}/articles/{article}/files")
    sessions = "|".join(IMAGE_SET_SESSIONS.values())
    pattern = re.compile(rf"^sub-0*(\d+)_({sessions})(?:_original)?_VC(?:_v(\d+))?\.h5$")
    best: dict[tuple[int, str], tuple[int, ListedFile]] = {}
    for f in files:
        match = pattern.match(f.path)
        if match:
            slot, version = (int(match.group(1)), match.group(2)), int(match.group(3) or 1)
            if slot not in best or version > best[slot][0]:
                best[slot] = (version, f)
    items = []
    for subject in _chosen(ctx, SHEN_SUBJECTS):
        for session in IMAGE_SET_SESSIONS.values():
            if (subject, session) not in best:
                raise DataFormatError(f"figshare article {article} lists no sub-{subject:02d}_{session}_..._VC.h5")
            listed = best[(subject, session)][1]
            items.append(Item(source="shen2019", path=listed.path, url=listed.url, published=listed.known_hash,
                              published_from=f"figshare's computed_md5 for article {article}", target=listed.path,
                              size=listed.size))
    return items


def _plan_spose(ctx: PlanContext) -> list[Item]:
    node = SPOSE_NODE
    files = ctx.listing("spose", lambda: listings.list_osf_files(node, retries=ctx.retries),
                        f"{listings.osf_api()}/nodes/{node}/files/osfstorage/")
    embedding = [f for f in files if f.path.rsplit("/", 1)[-1] == SPOSE_EMBEDDING]
    if not embedding:
        raise DataFormatError(f"OSF node {node} lists no {SPOSE_EMBEDDING}; it lists {[f.path for f in files][:12]}")
    embedding.sort(key=lambda f: (not f.path.startswith("data/"), f.path))
    chosen = [embedding[0]]
    for extra in SPOSE_EXTRAS:
        hits = sorted((f for f in files if f.path.rsplit("/", 1)[-1] == extra), key=lambda f: f.path)
        chosen += hits[:1]
    return [_osf_item("spose", f, node, f.path.rsplit("/", 1)[-1]) for f in chosen]


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("realnet-weights", "realnet-weights",
           "the published ReAlnet checkpoints (CORnet-S, one per THINGS-EEG2 subject), imported as realnet_sNN",
           "Brain-Score's S3 copy, at the version ids and sha1s of its ReAlnet plugin's weights.json",
           tuple(range(1, 11)), _plan_realnet),
    Source("cornet-s", "cornet-s",
           "CORnet-S ImageNet weights (Kubilius et al. 2019), imported as realnet_base_cornet_s",
           "Brain-Score's S3 copy, at the path and sha1 of its cornet_s plugin", None, _plan_cornet_s),
    Source("resnet18", "resnet18", "torchvision's ResNet18 ImageNet weights, imported as realnet_base_resnet18",
           "download.pytorch.org, the address torchvision records; sha256 prefix from the file name",
           None, _plan_resnet18),
    Source("things-eeg2", "things-eeg2", "THINGS-EEG2 preprocessed EEG (Gifford et al. 2022), per subject",
           f"OSF {THINGS_EEG2_PREPROCESSED_NODE} (project {THINGS_EEG2_PROJECT}); hashes from OSF's API",
           tuple(range(1, 11)), _plan_things_eeg2,
           note="with things-eeg2-images in the same folder: realnet package things-eeg2 --source {folder}"),
    Source("things-eeg2-images", "things-eeg2", "THINGS-EEG2 image set and image_metadata.npy",
           f"OSF {THINGS_EEG2_IMAGES_NODE} (project {THINGS_EEG2_PROJECT}); hashes from OSF's API",
           None, _plan_things_eeg2_images),
    Source("shen2019", "shen2019", "Shen et al. 2019 preprocessed fMRI test sessions (natural, shape, letter)",
           f"figshare article {SHEN2019_FIGSHARE_ARTICLE}; md5s from figshare's API", (1, 2, 3), _plan_shen2019,
           note="the stimulus lists (perception*.tsv, OpenNeuro ds001506) and the images are not fetched: put them "
                "in {folder} (images under images/), then realnet package shen2019 --source {folder}"),
    Source("spose", "spose", "THINGS 49 object dimensions: SPoSE embedding (Hebart et al. 2020)",
           f"OSF {SPOSE_NODE}; hashes from OSF's API", None, _plan_spose),
)}
