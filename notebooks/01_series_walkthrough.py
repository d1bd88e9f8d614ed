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
# # One series, from DICOM files to pictures
#
# This walkthrough reads one MRI series of the RSNA 2024 Lumbar Spine data, puts its
# slices in the right order, normalises the intensities, and looks at them: a grid of
# slices, a histogram, and a slider to scrub through the stack.
#
# It runs on the competition data when it finds it (the folder named by
# `$EDA_HELPERS_DATA`, or Kaggle's input folder) and otherwise on the built-in sample
# dataset: a small synthetic lumbar-spine phantom in the competition's layout, written
# once into a cache folder, with the quirks of the real data planted on purpose.

# %%
import matplotlib.pyplot as plt
import numpy as np
from pydicom.uid import UID

import eda_helpers as eh
from eda_helpers.geometry import slice_normal, slice_offsets

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

data = eh.rsna.find_dataset()
print("dataset:", data.source)

# %% [markdown]
# `train_series_descriptions.csv` says which series a study has. We take the last study
# of the table and its three series.

# %%
descriptions = eh.rsna.read_descriptions(data)
study_id = int(descriptions["study_id"].iloc[-1])
kinds = descriptions.loc[descriptions["study_id"] == study_id, "series_description"]
series = {
    kind: eh.rsna.find_series(data, study_id, kind, descriptions=descriptions)[0] for kind in kinds
}
for description, folder in series.items():
    print(f"{description:17} {folder.name:>11}  {len(list(folder.iterdir()))} files")

# %% [markdown]
# ## Read: the file list is not the slice order
#
# The file names are the instance numbers. Listing a folder and sorting the names as
# text, the way `sorted(glob(...))` does, puts `10.dcm` before `2.dcm`:

# %%
folder = series["Sagittal T2/STIR"]
print([p.name for p in sorted(folder.iterdir())])

# %% [markdown]
# Sorting by the number in the name fixes that, and is what most public notebooks do.
# It is still not the order of the slices in space: the instance number is the order in
# which the scanner stored them, and nothing obliges it to run along the body.
#
# `read_series` reads every DICOM file of the folder (whatever its name), decodes the
# pixels once into one array, and orders the slices by where they are.

# %%
vol = eh.read_series(folder)
vol

# %% [markdown]
# ## Sort: slice order is geometric
#
# Each file states where its slice is: `ImagePositionPatient` (the patient coordinates,
# in mm, of its first pixel) and `ImageOrientationPatient` (the directions of its rows
# and columns). The cross product of the two directions is the slice normal; projecting
# each position on the normal gives the distance of each slice along the stack, and
# sorting by that distance gives the geometric order. The instance number only breaks
# ties.
#
# Here is the same series in three orders: by file name as text, by the number in the
# name, and by position along the normal.

# %%
offset_of = dict(zip(vol.instance_numbers, slice_offsets(vol.positions, vol.orientation)))
by_text = [int(p.stem) for p in sorted(folder.iterdir())]
by_number = sorted(by_text)

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot([offset_of[n] for n in by_text], "o:", label="file names sorted as text")
ax.plot([offset_of[n] for n in by_number], "s--", label="number in the file name")
ax.plot([offset_of[n] for n in vol.instance_numbers], "k.-", label="read_series (geometric)")
ax.set_xlabel("slice index")
ax.set_ylabel("position along the normal (mm)")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Sorted as text, neighbouring slices jump about. Sorted by number, this series runs
# backwards: the scanner numbered its slices against the direction of the normal. For a
# sagittal series that is a left-right question, and a reader that trusts the numbers
# shows the patient's left where others show the right; the left and right foraminal
# labels then sit on the wrong side of the spine. The geometric order always runs the
# same way along the normal (patient +x is the patient's left):

# %%
print("slice normal:", np.round(slice_normal(vol.orientation), 2))
for i in (0, len(vol) - 1):
    print(f"slice {i:2}: instance {vol.instance_numbers[i]:2}, x = {vol.positions[i][0]:6.1f} mm")
print("spacing (slice, row, col) mm:", tuple(round(s, 3) for s in vol.spacing))

# %% [markdown]
# `vol.affine` maps a voxel index `(slice, row, col)` to patient coordinates, so any
# pixel can be placed in the body; here the centre of the middle slice:

# %%
s, r, c = vol.shape
print((vol.affine @ [s // 2, r // 2, c // 2, 1])[:3].round(1))

# %% [markdown]
# ## Stacks: one series can hold several volumes
#
# The axial series of the competition are often made of two or three short stacks, each
# tilted to lie along one disc. They share one series UID, but they are not one volume:
# stacked into one array they mix slices of different planes. `read_series` refuses such
# a series and says what to do instead:

# %%
axial = series["Axial T2"]
try:
    eh.read_series(axial)
except eh.SeriesError as err:
    print(err)

# %% [markdown]
# `read_stacks` returns one Volume per stack, each in its own geometric order. A stack is
# what one affine can place: slices of one orientation, slice size and pixel spacing whose
# positions lie on one line. Two parallel blocks shifted within their plane, or one slice
# moved out of place, become stacks of their own instead of being placed wrongly. The
# angle between the stacks' normals shows the tilt, and the jump between stacks is much
# larger than the slice spacing inside one:

# %%
stacks = eh.read_stacks(axial)
normals = [slice_normal(v.orientation) for v in stacks]
for i, v in enumerate(stacks):
    tilt = np.degrees(np.arccos(np.clip(normals[i] @ normals[0], -1, 1)))
    print(
        f"stack {i}: {v.shape[0]:2} slices, instances {v.instance_numbers[0]}"
        f"..{v.instance_numbers[-1]}, tilt {tilt:4.1f} deg from stack 0"
    )

# %% [markdown]
# ## Pixel values
#
# The competition's files are RLE Lossless, 16 bits allocated with 12 stored. Reading
# applies the modality rescale (`RescaleSlope`, `RescaleIntercept`) and shows
# MONOCHROME1 images (where white means zero) as MONOCHROME2, so bright is always high.
# The values come out as `int16` when they are integers that fit, else `float32`.

# %%
print("transfer syntax:", UID(vol.transfer_syntax).name)
print("stored as:", vol.photometric, "| pixels:", vol.pixels.dtype, tuple(vol.pixels.shape))
print("value range:", int(vol.pixels.min()), "..", int(vol.pixels.max()))
print("DICOM window (center, width):", vol.dicom_window)

# %% [markdown]
# ## Normalise: intensities to [0, 1]
#
# MR values have no fixed unit, so to look at them we map a range (lo, hi) to 0..1 and
# clip outside it. `value_range` shows which range each method picks: the extremes
# (`"minmax"`), the 0.5th and 99.5th percentiles (`"percentile"`, the default), or the
# window stored in the files (`"window"`).

# %%
for method in ("minmax", "percentile", "window"):
    lo, hi = eh.value_range(vol, method=method)
    print(f"{method:10} {lo:7.1f} .. {hi:7.1f}")

# %% [markdown]
# One bright voxel is enough to spoil min-max scaling. We add one to a copy (at 10x the
# maximum; as float, because it would not fit in int16) and normalise the middle slice
# three ways.

# %%
spiked = vol.pixels.float()
spiked[0, 0, 0] = 10 * float(vol.pixels.max())
middle = len(vol) // 2
panels = [
    ("min-max", eh.normalize(vol, method="minmax")),
    ("min-max, one bright voxel", eh.normalize(spiked, method="minmax")),
    ("percentile, one bright voxel", eh.normalize(spiked)),
]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
for ax, (title, image) in zip(axes, panels):
    ax.imshow(image[middle], cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")

# %% [markdown]
# With min-max the lone voxel takes the top of the range and the anatomy is squeezed into
# the bottom tenth: the slice turns nearly black. The percentile range ignores it.
# `to_uint8` quantises the result, for saving images or for models that expect bytes:

# %%
u8 = eh.to_uint8(eh.normalize(vol))
print(u8.dtype, tuple(u8.shape), int(u8.min()), "..", int(u8.max()))

# %% [markdown]
# ## Grid: the whole stack at a glance
#
# The competition's label coordinates are pixel positions on one instance each; as
# `Point`s they can be marked on their own slices.

# %%
labels = eh.rsna.label_points(eh.rsna.read_coordinates(data), folder)
labelled = vol.points_by_slice(labels)
print({i: [p.text for p in points] for i, points in labelled.items()})

# %% [markdown]
# `plot_grid` shows up to 25 slices sampled evenly (first and last included) as one
# montage, all on one shared scale so that brightness compares across panels. Each panel
# is labelled with its slice index and InstanceNumber; each label is a thin light ring
# on its slice, with its text beside it (light on a dark halo, on the outer side).

# %%
fig = eh.plot_grid(vol, points=labels)

# %% [markdown]
# Only the labelled slices, each stretched to its own range: faint slices become
# visible, but brightness no longer compares between panels.

# %%
fig = eh.plot_grid(vol, slices=sorted(labelled), points=labels, scale="per_slice")

# %% [markdown]
# ## Histogram: where the values are
#
# Left: the background peak at zero dwarfs everything; the two lines are where the
# default window, `window="percentile"` (the 0.5th and 99.5th percentiles), puts black
# and white: the same cuts as in the grid above and the viewer below. Right: without
# the background and with log counts, the tissue distribution and the few bright values
# above the white cut show; the dashed line is the median.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
left = eh.plot_histogram(vol, ax=axes[0])
right = eh.plot_histogram(vol, exclude_background=True, log=True, percentiles=(50,), ax=axes[1])

# %% [markdown]
# ## Scrub through the stack
#
# `SliceViewer` shows one slice at a time: drag the slider under the image, or click its
# handle and use the arrow keys; ▶ plays the stack. The line under the slider gives the
# slice index, its InstanceNumber, its position along the slice normal (mm) and the
# labels on it. The window slider sets the values shown black and white (centre C,
# width W, and low–high beside it); *reset* returns to the `window=` asked for, here
# the 0.5–99.5 % percentiles of the whole volume, as in the grid.
#
# **Live** (a kernel runs): every frame is rendered once and then lives in the browser,
# so stepping, holding a key and ▶ never wait for the kernel, also while another cell
# runs; only a new window goes through the kernel. In Jupyter Notebook 7 the arrow keys
# on the slider move the cell selection instead: click the number box beside ▶ and use
# ↑/↓ there (it is linked to the slider in the browser).
#
# **Saved** (no kernel: an HTML export, nbviewer, VS Code, a saved Kaggle version): the
# output also holds a self-contained viewer, scrubbable with the slider, the arrow keys
# and the mouse wheel on the image, ▶, and a centre/width window that works within the
# saved window's grey levels (values the saved window clipped stay clipped). Where
# scripts are stripped (GitHub) it shows the slice below with a caption.
# `eh.save_html(viewer, "viewer.html")` writes it as a page of its own;
# `saved="png"` keeps a still picture only, `saved=None` nothing but the widget.

# %%
viewer = eh.SliceViewer(vol, points=labels, index=min(labelled), width=448)
viewer

# %% [markdown]
# The viewer can also be driven from code: `viewer.index` is the slice shown,
# `viewer.window` the values shown black and white, and `viewer.frame()` the grey levels
# on screen. Setting them moves the widget above, as if done by hand.

# %%
viewer.index = max(labelled)
viewer.window = eh.value_range(vol, method="percentile", low=5, high=99.9)
print(viewer.index, [round(v) for v in viewer.window], viewer.frame().shape)
