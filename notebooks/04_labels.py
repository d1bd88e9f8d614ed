# %% [markdown]
# # Checking the labels against the images
#
# The competition's label coordinates are noisy: some right-side points sit on the
# patient's left, some levels sit on the wrong disc, some grades have no point. This
# notebook checks every label against the geometry of its slice (from the DICOM headers)
# and against `train.csv`, shows each kind of finding on its image, then looks at the
# data the way a model sees it: a crop around one label in every study, sorted by grade,
# and a contact sheet of every series with its quirks.
#
# It runs on the competition data when it finds it (`$EDA_HELPERS_DATA`, or Kaggle's
# input folder) and otherwise on the built-in sample dataset, whose labels carry one
# planted error of each kind (`eh.sample.planted_label_errors()` lists them).

# %%
import matplotlib.pyplot as plt
import pandas as pd

import eda_helpers as eh
from eda_helpers import rsna

pd.set_option("display.max_colwidth", 140)
pd.set_option("display.width", 160)

data = rsna.find_dataset()
print("dataset:", data.source)

# %% [markdown]
# ## The findings
#
# `check_labels` maps each label point into patient coordinates (mm; +x is the patient's
# left, +z the head) through the position, orientation and pixel spacing of its slice,
# reading only the headers of the labelled files. Each row is one finding: where it is,
# which rule, and a sentence with the numbers. Nothing is changed: a finding is evidence
# to look at, not a correction. (`progress=False` keeps the output stable here; on the
# full data leave the progress bar on.)

# %%
findings = rsna.check_labels(data, progress=False)
print(len(findings), "findings in", findings["study_id"].nunique(), "studies")
findings["rule"].value_counts().reindex(list(rsna.LABEL_RULES), fill_value=0).to_frame("findings")

# %% [markdown]
# What each rule means, with the thresholds in `rsna.SIDE_TOLERANCE_MM` and
# `rsna.LEVEL_SPACING_MM`:

# %%
pd.Series(rsna.LABEL_RULES, name="what it reports").to_frame()

# %% [markdown]
# The findings themselves (on the full data, filter by `rule` or `study_id` first):

# %%
findings[["study_id", "series_id", "instance_number", "condition", "level", "rule", "detail"]]

# %% [markdown]
# ## Each rule on its example
#
# For every rule that points at a slice, the first finding is drawn on its slice with
# all the label points of that series that lie on it (a red cross each, "L"/"R" for the
# side). The title names the rule, the condition and the level; the sentence of the
# finding is printed under the figure.

# %%
pictured = ["side", "same_slice", "level_order", "level_spacing", "outside_image",
            "wrong_series", "duplicate"]  # fmt: skip
on_images = findings[findings["rule"].isin(pictured)].drop_duplicates("rule")
coords = rsna.read_coordinates(data)
shown = []
fig, axes = plt.subplots(2, 4, figsize=(16, 9), layout="constrained")
for ax in axes.flat:
    ax.set_axis_off()
for ax, f in zip(axes.flat, on_images.itertuples()):
    folder = data.root / "train_images" / str(f.study_id) / str(f.series_id)
    stacks = eh.read_stacks(folder) if folder.is_dir() else []
    where = [
        (volume, volume.instance_numbers.index(f.instance_number))
        for volume in stacks
        if f.instance_number in volume.instance_numbers
    ]
    if not where:
        ax.text(0.5, 0.5, f"{f.rule}\ninstance {f.instance_number}: no such slice",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        shown.append(f)
        continue
    volume, index = where[0]
    rows, cols = volume.shape[1:]
    points = [  # a point outside its image has no place to be drawn
        p
        for p in rsna.label_points(coords, folder)
        if -0.5 <= p.x <= cols - 0.5 and -0.5 <= p.y <= rows - 0.5
    ]
    eh.plot_grid(volume, slices=[index], points=points, labels=False, ax=ax)
    ax.set_title(f"{f.rule}\n{f.condition} {f.level}", fontsize="medium")
    shown.append(f)
for f in shown:
    print(f"{f.rule:16} {f.study_id}/{f.series_id} #{f.instance_number}: {f.detail}")

# %% [markdown]
# How to read them: **side** and **same_slice** are judged in patient space, never by
# image left/right or by the direction in which a sagittal series is numbered (the sample
# numbers its sagittal series both ways); **level_order** and **level_spacing** compare
# the points of one condition in one series along the patient's axis;
# an **outside_image** point lies beyond its image, so only the other points of its slice
# are drawn; **wrong_series** shows a canal point on a Sagittal T1 image;
# **duplicate** shows two crosses a few pixels apart.
#
# The rules that need no image are about the tables: a label instance that is no file of
# its series, and `train.csv` and the coordinates disagreeing.

# %%
findings.loc[
    findings["rule"].isin(["missing_instance", "grade_without_point", "point_without_grade"]),
    ["study_id", "series_id", "instance_number", "condition", "level", "rule", "detail"],
]

# %% [markdown]
# ## One label in every study: the crop gallery
#
# Models train on crops around the label points, so this is what they see. For one
# condition and level, `plot_label_crops` cuts a 40 mm square around the point of each
# study, resampled to 0.5 mm per pixel (the series differ in pixel spacing), and groups
# the crops by grade. A red frame marks a crop whose label has findings, with the rule
# written on it; the red cross is the label point. Here: the right foramen at L3/L4,
# where the sample plants a point on the wrong side.

# %%
fig = rsna.plot_label_crops(
    data,
    condition="Right Neural Foraminal Narrowing",
    level="L3/L4",
    findings=findings,
    progress=False,
)

# %% [markdown]
# The spinal canal at L1/L2, all grades side by side: in a severe stenosis the bright
# fluid of the canal around the cross is much narrower than in the Normal/Mild crops
# (the disc bulges in from the front, the ligament from the back). On the real data,
# L4/L5 holds most of the moderate and severe cases.

# %%
fig = rsna.plot_label_crops(
    data, condition="Spinal Canal Stenosis", level="L1/L2", findings=findings, progress=False
)

# %% [markdown]
# ## Every series at a glance: the contact sheet
#
# One thumbnail per series (the middle slice of its largest stack, in geometric order),
# with its description, its ids and its flags: the notes of the header scan and the
# rules of the label check. Red frames: label findings; orange: scan notes only. The odd
# series come first. On the full data the sheet pages (`limit=` thumbnails per page,
# `page=` to turn); pass the scan table so that it is not computed again.

# %%
scan = rsna.scan_dataset(data, progress=False)
fig = rsna.plot_contact_sheet(data, scan, findings=findings, progress=False)
