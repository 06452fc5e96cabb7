"""
Seeing the textures a model relies on (Ling et al. 2017, Figs. 8-12)
=====================================================================

A random forest on the mean activations of block4_conv3 classifies the
shipped UHCS steel micrographs. Because each feature is one VGG16 filter, the
model can be explained in pictures:

- the textures of the filters the forest relies on most (activation
  maximization: a noise image changed by gradient ascent until the filter
  fires strongly), with each class's mean activation of them;
- each class's characteristic filter, the one whose mean activation is
  highest in that class relative to the others (Cohen's d);
- heat maps of where in a micrograph that filter fires.

``python examples/plot_explain.py [OUT]`` writes the figures (PNG and SVG),
the tables behind them and a summary to OUT (default
``explain_uhcs_sample/``); about three minutes on 2 CPU cores.
"""

import sys
import tempfile
from pathlib import Path

from sklearn_cnntexture import VGGLayerTransformer, load_uhcs_sample
from sklearn_cnntexture.explain import explain_model
from sklearn_cnntexture.report import explanation_summary, write_explanations

out = Path(sys.argv[1] if len(sys.argv) > 1 else "explain_uhcs_sample")
paths, labels = load_uhcs_sample(return_X_y=True)

with tempfile.TemporaryDirectory() as cache:
    # The network and what it does to each micrograph, as in a study: the
    # features, the textures and the heat maps all go through it.
    vgg = VGGLayerTransformer(
        "block4_conv3",
        weights="hed-bsds500",  # offline; VGG16 fine-tuned for edges (imagenet needs internet)
        resize=224,
        cache=cache,
    )
    # The micrographs are grayscale, so the textures are too (color="auto").
    explanation = explain_model(
        paths, labels, vgg=vgg, encoder="mean", top_k=5, per_layer=4, size=96, verbose=False
    )

print(explanation_summary(explanation))
for path in write_explanations(explanation, out):
    print(f"wrote {path}")
