"""
The layer x encoder study on steel micrographs (Ling et al. 2017, Figs. 6 and 7)
================================================================================

Which VGG16 layer, and which texture encoding, separates the three classes of
the shipped UHCS sample (36 SEM micrographs of ultrahigh-carbon steel)? The
study fits a random forest on the features of every layer x encoder (mean,
max, Gram, VLAD), of each encoder on the raw image, and of the union of the
layers' mean features, scored by cross-validated F1 (macro).

Each image goes through the network once at its own size and once at VLAD's
255 x 255: the per-image cache (``cache=``) serves every candidate and fold.
Run it again and the features come from the cache.

This runs on 2 CPU cores in a few minutes: 3 folds x 1 repeat and 100
trees instead of the paper's 3 x 10 and 400, on images resized to 224 x 224.
``python examples/plot_study.py [OUT]`` writes the table, the figures
(PNG and SVG) and a summary to OUT (default ``study_uhcs_sample/``).
"""

import sys
import tempfile
from pathlib import Path

from sklearn_cnntexture import Study, VGGLayerTransformer, load_uhcs_sample
from sklearn_cnntexture.report import write_study

out = Path(sys.argv[1] if len(sys.argv) > 1 else "study_uhcs_sample")
paths, labels = load_uhcs_sample(return_X_y=True)

with tempfile.TemporaryDirectory() as cache:
    study = Study(
        # offline weights: VGG16 fine-tuned for edges (imagenet needs internet)
        VGGLayerTransformer(weights="hed-bsds500", resize=224, cache=cache),
        n_repeats=1,
        n_estimators=100,
    ).fit(paths, labels)

table = study.results_.drop(columns="params")
print(table.to_string(index=False, float_format="{:.3f}".format))
print(f"features in {study.featurize_time_:.0f} s, models in {study.fit_time_:.0f} s")
best = study.best_
print(f"best: {best['encoder']} of {best['layer']}, "
      f"F1 = {best['f1_mean']:.3f} +- {best['f1_std']:.3f}")
for path in write_study(study, out):
    print(f"wrote {path}")
