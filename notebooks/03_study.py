# %% [markdown]
# # A study in world coordinates
#
# A competition study is three series looked at together: the spinal canal is labelled on
# the Sagittal T2/STIR, the neural foramina on the Sagittal T1, the subarticular zones on
# the Axial T2, whose slices come in two or three separately angled stacks. All of them
# share one frame of reference: patient coordinates in mm (DICOM's LPS: +x to the
# patient's left, +y to the back, +z to the head). A label point placed on one slice is a
# point in the patient, so it has a nearest slice, a pixel and a distance in every other
# stack of the study.
#
# This notebook carries one study's label points onto all its series, and shows what
# that says: which axial stack covers which disc, and where a subarticular label (placed
# on an axial slice) lies on the sagittal images. It ends with the study's series side by
# side in a linked viewer. Like the other notebooks, it runs on the
# competition data when it finds it and otherwise on the built-in sample dataset.

# %%
import numpy as np
import pandas as pd

import eda_helpers as eh
from eda_helpers import rsna

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)

data = rsna.find_dataset()
descriptions = rsna.read_descriptions(data)
study_id = int(descriptions["study_id"].iloc[0])
print("dataset:", data.source, "| study", study_id)

# %% [markdown]
# ## A Volume in world coordinates
#
# `Volume.world` maps voxel indices `(slice, row, col)` to patient mm and
# `Volume.index_of` maps back. PixelSpacing is (row spacing, column spacing): one row
# down moves by the row spacing along the column cosine of ImageOrientationPatient, one
# column right by the column spacing along its row cosine. Between two slices the point
# follows their actual positions, so a gap in a stack stays where it is.

# %%
folder = rsna.find_series(data, study_id, "Sagittal T2/STIR", descriptions=descriptions)[0]
t2 = eh.read_series(folder)
corners = np.array([[0, 0, 0], [0, t2.shape[1] - 1, 0], [len(t2) - 1, 0, t2.shape[2] - 1]])
print(t2)
print("spacing (slice, row, col) mm:", np.round(t2.spacing, 3))
print("world of three voxels (mm):\n", np.round(t2.world(corners), 2))
print("back to indices:\n", np.round(t2.index_of(t2.world(corners)), 6) + 0.0)

# %% [markdown]
# ## Every label on every stack
#
# `rsna.project_labels` reads only the headers of the study's series. For each label
# point and each stack it gives the nearest slice (`target_slice_index`, in the order of
# `read_stacks`, and its instance number), the point's pixel there (`x` column, `y` row),
# its distance from that slice's plane and `inside`: on the image and within half a slice
# step. One spinal canal label, on each stack of the study.
#
# The sample's labels carry planted errors, as the real ones do (notebook 04 finds them
# all): in this study one left subarticular point names instance 32, which is not a file
# of its axial series, so `project_labels` warns and that label's projections stay empty.

# %%
table = rsna.project_labels(data, study_id, descriptions=descriptions)
show = [
    "level",
    "series_id",
    "instance_number",
    "target_description",
    "target_stack",
    "target_instance_number",
    "x",
    "y",
    "distance_mm",
    "inside",
]
canal = table[table["condition"] == "Spinal Canal Stenosis"]
canal[canal["level"] == "L4/L5"][show].round(2)

# %% [markdown]
# The first row of the label's own series gives back its own slice and pixel (distance
# 0). The Sagittal T1 slice is a few mm away; of the axial stacks, only the one angled
# along the L4/L5 disc holds the point within half a slice step.
#
# ## Which axial stack covers which disc
#
# For every spinal canal label (the centre of the canal at each disc, from the
# Sagittal T2/STIR), the axial stack and slice it falls in:

# %%
axial = canal[(canal["target_description"] == "Axial T2") & canal["inside"]]
axial.pivot_table(
    index="level",
    columns="target_stack",
    values="target_instance_number",
    aggfunc="first",
).rename_axis(columns="axial stack: nearest instance")

# %% [markdown]
# The same, as a picture: on the labelled sagittal T2 slice, every axial slice is a line
# (where its plane cuts the sagittal one, from the geometry tags), coloured by stack, with
# the spinal canal labels as crosses. Each stack's lines fan out along its own discs.

# %%
axial_folder = rsna.find_series(data, study_id, "Axial T2", descriptions=descriptions)[0]
stacks = eh.read_stacks(axial_folder)
coords = rsna.read_coordinates(data)
index = int(canal["target_slice_index"][canal["target_series_id"] == int(folder.name)].mode()[0])
ax = eh.plot_cross_reference(t2, stacks, index=index, points=rsna.label_points(coords, folder))

# %% [markdown]
# ## Where a subarticular label lies on the sagittal
#
# The subarticular labels are placed on axial slices, left and right of the canal. On
# the Sagittal T2/STIR they fall on the slices beside the midline one, one per side:

# %%
sub = table[table["condition"].str.contains("Subarticular")]
on_t2 = sub[(sub["target_series_id"] == int(folder.name)) & sub["inside"]]
on_t2.pivot_table(
    index="level", columns="condition", values="target_slice_index", aggfunc="first"
).rename_axis(columns="sagittal T2 slice index")

# %% [markdown]
# Drawn on those sagittal slices ("L"/"R" for the side; the midline slice with the
# canal labels in the middle), each subarticular point is where the axial label lands:
# beside the canal, at the level of its disc.

# %%
points = [
    eh.Point(int(r.target_instance_number), float(r.x), float(r.y), f"{r.condition[0]} {r.level}")
    for r in on_t2.itertuples()
] + rsna.label_points(coords, folder)
slices = sorted({*on_t2["target_slice_index"], index})
fig = eh.plot_grid(t2, slices=slices, points=points)

# %% [markdown]
# ## The linked viewer
#
# `rsna.show_study` puts every stack of the study side by side, each pane scrubbable
# like the slice viewer (slider, arrow keys and mouse wheel on the image, play, window).
# The panes are linked in the browser, with no kernel, so this keeps working in the
# saved notebook: the current slice of each pane is drawn, in that pane's colour (the
# bar above it), on every pane it cuts; a click on a pane moves every other pane to its
# slice nearest the clicked point and marks it with a red cross; the label points of all
# conditions show on every slice they fall inside (SCS: spinal canal, LNFN/RNFN: left and
# right foraminal narrowing, LSS/RSS: left and right subarticular stenosis).
#
# Try it: scrub an axial pane and watch its line climb the two sagittal panes; click a
# disc on the Sagittal T2/STIR and the axial stack that covers it jumps to that disc.

# %%
# NBVAL_IGNORE_OUTPUT
# (Its 2 MB of HTML are checked in a real browser by tests/test_study.py instead.)
rsna.show_study(data, study_id, descriptions=descriptions, width=300)
