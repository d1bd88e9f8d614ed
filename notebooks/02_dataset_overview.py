# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The dataset at a glance
#
# This notebook looks at the RSNA 2024 Lumbar Spine data as a whole before looking at any
# one image: which series the studies have, how the labels are spread over conditions and
# levels, and which series break the rules that naive code relies on. It ends with one
# study: its three series with their label points, and the axial slices drawn as lines
# on the sagittal image.
#
# Like the walkthrough, it runs on the competition data when it finds it (the folder named
# by `$EDA_HELPERS_DATA`, or Kaggle's input folder) and otherwise on the built-in sample
# dataset, a small synthetic copy of the competition's layout with its quirks planted.

# %%
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

import eda_helpers as eh
from eda_helpers import rsna

pd.set_option("display.max_colwidth", 100)
pd.set_option("display.width", 120)

# Figures on a dark ground: readable in JupyterLab's dark theme, no white blocks in the
# light one.
plt.style.use("dark_background")
plt.rcParams.update(
    {
        "figure.facecolor": "#202124",
        "axes.facecolor": "#202124",
        "savefig.facecolor": "#202124",
        "figure.dpi": 100,
    }
)

data = rsna.find_dataset()
print("dataset:", data.source)

# %% [markdown]
# ## Which series each study has
#
# `train_series_descriptions.csv` lists the series of every study with its description.
# `read_descriptions` reads it into a DataFrame and checks its columns and id types.

# %%
descriptions = rsna.read_descriptions(data)
print(descriptions["study_id"].nunique(), "studies,", len(descriptions), "series")
descriptions["series_description"].value_counts().to_frame("series")

# %% [markdown]
# Most studies have one series of each kind, but not all: some real studies have two
# Axial T2 series, a few lack one kind. The combinations, with how many studies have each:

# %%
kinds = pd.crosstab(descriptions["study_id"], descriptions["series_description"])
kinds.value_counts().to_frame("studies")

# %% [markdown]
# ## The labels: severity per condition and level
#
# `train.csv` gives each study a severity for 5 conditions at 5 disc levels.
# `read_labels(..., form="long")` turns its 25 columns into one row per study, condition
# and level, with the severity as an ordered category (missing labels stay, as NaN).

# %%
labels = rsna.read_labels(data, form="long")
counts = pd.crosstab(
    [labels["condition"], labels["level"]], labels["severity"], dropna=False
).reindex(columns=list(rsna.SEVERITY.categories))
counts["missing"] = labels["severity"].isna().groupby([labels["condition"], labels["level"]]).sum()
counts

# %% [markdown]
# The same counts as bars, one panel per condition: each bar is a level, split by
# severity, its height the number of studies. "Normal/Mild" dominates everywhere; the
# lower levels (L4/L5, L5/S1) carry most of the moderate and severe cases.

# %%
colours = {"Normal/Mild": "#8fbf8f", "Moderate": "#e6b84d", "Severe": "#c8553d"}
conditions = list(dict.fromkeys(labels["condition"]))
# Sized for JupyterLab's default width: two rows of three, the legend in the sixth cell.
fig, axes = plt.subplots(2, 3, figsize=(9, 6), sharey=True, layout="constrained")
for ax, condition in zip(axes.flat, conditions):
    table = counts.loc[condition, list(colours)]
    table.plot.bar(stacked=True, ax=ax, color=list(colours.values()), legend=False, width=0.8)
    ax.set_title(condition, fontsize=11)
    ax.set_xlabel("")
    ax.tick_params(labelsize=10, labelrotation=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole studies only
for ax in axes[:, 0]:
    ax.set_ylabel("studies", fontsize=11)
spare = axes.flat[-1]
spare.set_axis_off()
legend = spare.legend(
    *axes.flat[0].get_legend_handles_labels(),
    title="severity",
    fontsize=11,
    title_fontsize=11,
    loc="center",
    frameon=False,
)

# %% [markdown]
# The label points (`train_label_coordinates.csv`) each sit on one instance of one
# series. By the competition's rule, the spinal canal is marked on the Sagittal T2/STIR,
# the foramina on the Sagittal T1 and the subarticular zones on the Axial T2; the table
# shows where the points of each condition actually are.

# %%
coords = rsna.read_coordinates(data)
placed = coords.merge(descriptions, on=["study_id", "series_id"], how="left")
pd.crosstab(placed["condition"], placed["series_description"])

# %% [markdown]
# ## Series that break the rules: the header scan
#
# `scan_dataset` reads the header of every file (not the pixels) and gives one row per
# series: sizes, spacing, orientation, how the instances are numbered, and the files it
# could not read. It runs in parallel over the CPUs. On the full competition data it reads
# about 147,000 headers, and the first pass is bound by the disk, so the table is worth
# saving with `scan.to_csv(...)`. `progress=True` (the default) shows a progress bar; it
# is off here to keep the output stable.

# %%
scan = rsna.scan_dataset(data, progress=False)
print(len(scan), "series,", int(scan["n_files"].sum()), "files,", int(scan["odd"].sum()), "odd")
scan.groupby("description").agg(
    series=("series_id", "size"),
    files_median=("n_files", "median"),
    multi_stack=("n_stacks", lambda n: int((n > 1).sum())),
    numbered_against_normal=("order_disagrees", "sum"),
    unreadable_files=("n_unreadable", "sum"),
)

# %% [markdown]
# The odd series, with what is odd about them in `notes`. "Numbered against the slice
# normal" means that sorting by InstanceNumber runs the slices the opposite way to their
# geometric order (`read_series` always orders them geometrically); several stacks mean
# that one series is several volumes (`read_stacks` returns one per stack).

# %%
columns = ["study_id", "series_id", "description", "n_files", "n_stacks", "sizes", "notes"]
scan.loc[scan["odd"], columns].head(20)

# %% [markdown]
# ## One study: its series and labels
#
# We take the study whose Axial T2 series has the most stacks, and read each of its
# series (the first of each description).

# %%
axial_scan = scan[scan["description"] == "Axial T2"]
study_id = int(axial_scan.sort_values(["n_stacks", "study_id"])["study_id"].iloc[-1])
print("study", study_id)
series = {}
for description in ("Sagittal T1", "Sagittal T2/STIR", "Axial T2"):
    folders = rsna.find_series(data, study_id, description, descriptions=descriptions)
    if folders:
        series[description] = (folders[0], eh.read_stacks(folders[0]))
        print(f"{description:17} {folders[0].name:>11}: {len(series[description][1])} stack(s)")

# %% [markdown]
# `locate_labels` places each label point of a series on its Volume: which stack, which
# slice (by instance number, whatever the slice order).

# %%
located = {d: rsna.locate_labels(coords, stacks) for d, (_, stacks) in series.items()}
show = ["condition", "level", "instance_number", "stack", "slice_index", "x", "y"]
located["Axial T2"][show].round(1)

# %% [markdown]
# The labelled slices of the two sagittal series, each label a light ring on its slice
# (`label_points` gives the `Point`s; "L"/"R" in front of the level mark the side of a
# left/right condition).

# %%
for description in ("Sagittal T1", "Sagittal T2/STIR"):
    if description in series:
        folder, (volume, *_) = series[description]
        where = located[description]
        slices = sorted(set(where.loc[where["stack"] == 0, "slice_index"]))
        fig = eh.plot_grid(volume, slices=slices, points=rsna.label_points(coords, folder))

# %% [markdown]
# The Axial T2 series, one row per stack: each stack's labelled slices, with the left and
# right subarticular points of its discs.

# %%
if "Axial T2" in series:
    folder, stacks = series["Axial T2"]
    where = located["Axial T2"]
    points = rsna.label_points(coords, folder)
    fig, axes = plt.subplots(len(stacks), 1, figsize=(8, 2.6 * len(stacks)), squeeze=False)
    for k, (ax, volume) in enumerate(zip(axes[:, 0], stacks)):
        slices = sorted(set(where.loc[where["stack"] == k, "slice_index"])) or [len(volume) // 2]
        eh.plot_grid(volume, slices=slices, points=points, ax=ax, title=f"Axial T2, stack {k}")
    fig.tight_layout()

# %% [markdown]
# ## Cross-reference: where the axial slices are
#
# Each axial slice is a plane; where it cuts the sagittal T2 slice is a line, computed
# from the geometry tags alone (`geometry.reference_line`). On the sagittal slice that
# holds the most spinal canal labels, each line is one axial slice, coloured by stack:
# every stack is angled along its own discs, and the labels show which disc each covers.

# %%
if {"Sagittal T2/STIR", "Axial T2"} <= set(series):
    t2_folder, (t2, *_) = series["Sagittal T2/STIR"]
    on_t2 = located["Sagittal T2/STIR"]
    index = int(on_t2["slice_index"].mode().min()) if len(on_t2) else None
    ax = eh.plot_cross_reference(
        t2, series["Axial T2"][1], index=index, points=rsna.label_points(coords, t2_folder)
    )
