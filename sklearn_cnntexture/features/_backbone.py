"""VGG16's convolutional stack, built once per process per weights source.

Nothing here is pickled: estimators hold only the plain parameters that name a
network (layers, weights source), and each process builds the Keras model on
first use and keeps it in :func:`_network`'s cache.
"""

import contextlib
import functools
import os
import sys

import numpy as np

from ._layers import CONV_LAYERS

# Caffe preprocessing of VGG16: BGR channel order, minus the ImageNet BGR mean.
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

def import_tensorflow():
    """TensorFlow and Keras, imported quietly; the one way the library imports them.

    TensorFlow's C++ start-up lines (oneDNN notices, CUDA probing on machines
    without a GPU) mean nothing to our users. ``TF_CPP_MIN_LOG_LEVEL`` no
    longer silences all of them (TensorFlow 2.21 writes some before its
    logging starts), so unless the user asked for those lines
    (``TF_CPP_MIN_LOG_LEVEL`` 0 or 1), the process's standard error is sent to
    /dev/null while TensorFlow loads and finds its devices. Python exceptions
    are not affected: an import that fails still raises with its message.

    Returns
    -------
    tensorflow, keras : module
    """
    global _tensorflow_loaded
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not _tensorflow_loaded and level not in ("0", "1"):
        with _stderr_silenced():
            import tensorflow

            tensorflow.config.list_physical_devices()  # CUDA probing prints here
    import keras
    import tensorflow

    _tensorflow_loaded = True
    return tensorflow, keras


_tensorflow_loaded = False


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 (C and C++ output included) to /dev/null for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_images_forwarded = 0


def count_images(n):
    """Record that ``n`` images went through the network (see backbone_image_count)."""
    global _images_forwarded
    _images_forwarded += n


def backbone_image_count():
    """How many images went through VGG16 in this process so far.

    Each image of each forward pass counts once, whatever the number of
    layers taken from it. Use it to check that a cached study runs each
    image through the network once: take the count before and after. Images
    processed by joblib workers in other processes are counted there, not
    here; run with ``n_jobs=1`` to count everything.

    Returns
    -------
    int
    """
    return _images_forwarded


#: The precisions of the forward pass: Keras dtype policy, and whether XLA compiles it.
#: Measured on a 2-core AVX-512 BF16 CPU (benchmarks/bench_forward.py --precision):
#: oneDNN without XLA ran float32 as fast as XLA at batches of 8 and bfloat16 at about
#: twice that; XLA gains nothing from bfloat16. So neither uses XLA on CPU.
PRECISIONS = {"float32": ("float32", False), "bfloat16": ("mixed_bfloat16", False)}


@functools.lru_cache(maxsize=4)
def _network(weights_key, policy="float32"):
    """The full VGG16 convolutional stack for a weights source (cached per process).

    ``policy`` is a Keras dtype policy: ``"mixed_bfloat16"`` computes in
    bfloat16 with float32 weights.
    """
    _, keras = import_tensorflow()

    from .weights import load_kernels

    kernels = load_kernels(weights_key)
    model = keras.applications.VGG16(
        weights=None, include_top=False, input_shape=(None, None, 3)
    )
    if policy != "float32":
        model = keras.models.clone_model(
            model,
            clone_function=lambda layer: layer.__class__.from_config(
                {**layer.get_config(), "dtype": policy}
            ),
        )
    for name, (kernel, bias) in zip(CONV_LAYERS, kernels):
        model.get_layer(name).set_weights([kernel, bias])
    return model


@functools.lru_cache(maxsize=32)
def forward_function(weights_key, layers, precision="float32", jit_compile=None):
    """A function from a preprocessed batch (b, H, W, 3) to one float32 array per layer.

    The model ends at the deepest of ``layers``: Keras prunes every layer that
    no requested output depends on. ``layers`` holds convolution names only.
    ``precision`` is a key of :data:`PRECISIONS`: the network computes in it,
    and its outputs come back as float32 whatever it is, so that encoders
    accumulate in float32 or float64. The arrays are read-only views of
    TensorFlow's buffers: copy one before writing into it. ``jit_compile`` overrides the
    precision's choice of XLA (the benchmark compares both).
    """
    tf, keras = import_tensorflow()

    policy, default_jit = PRECISIONS[precision]
    jit_compile = default_jit if jit_compile is None else jit_compile
    base = _network(weights_key, policy)
    outputs = [base.get_layer(name).output for name in layers]
    model = keras.Model(base.input, outputs)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run(batch):
        out = model(batch, training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        return [tf.cast(o, tf.float32) for o in out]

    def forward(batch):
        # np.asarray views TensorFlow's own buffer (read-only) where .numpy() would
        # copy it: about 140 MB an image through the five paper layers, 12 % of a
        # float32 featurization and 40 % of a bfloat16 one (benchmarks/bench_study.py).
        return [np.asarray(o) for o in run(tf.constant(batch))]

    return forward


#: Tile budgets (pixels of one tile, margins included) when the user sets none.
#: On a CPU the budget keeps a whole process, TensorFlow included, under 2.5 GiB
#: (a laptop's share) through the five paper layers, whatever the image's size.
#: Peak RSS grows with the tile and a little with the image (measured with
#: benchmarks/bench_tiling.py on 1600 x 1200, 3000 x 3000, 6000 x 6000):
#: 2**19 (724 x 724) 1.50, 1.55, 1.64 GiB (and under 2 GiB on 15000 x 15000);
#: 3 * 2**18 1.77, 2.05, 2.13 GiB, too close to 2.5 for larger images; 2**21
#: 3.0 GiB (1600 x 1200, untiled) and 4.9 GiB (6000 x 6000). Small tiles cost
#: time: each is extended by 112 pixels a side for block5, so 2**19 pushes
#: about 2.1x the pixels of a large image through the network (2**21: 1.4x),
#: and a 1600 x 1200 SEM image goes in 12 tiles, about 1.8x the time of one
#: untiled pass. A GPU's memory (16 GB and more) takes 2048 x 2048.
CPU_TILE_PIXELS = 2**19
GPU_TILE_PIXELS = 2**22


@functools.cache
def default_tile_pixels():
    """The tile budget for this machine: :data:`GPU_TILE_PIXELS` with a GPU, else CPU's."""
    tf, _ = import_tensorflow()
    return GPU_TILE_PIXELS if tf.config.list_physical_devices("GPU") else CPU_TILE_PIXELS


def caffe_preprocess(rgb):
    """VGG16's caffe preprocessing of float RGB intensities on the 0-255 scale.

    Same as ``keras.applications.vgg16.preprocess_input``: RGB to BGR, then the
    ImageNet BGR mean subtracted. Works on (..., 3) arrays.
    """
    return rgb[..., ::-1] - CAFFE_BGR_MEAN


# -- activation maximization: gradient ascent through the network ------------------


def ascend_filters(weights_key, layer, start, filters, *, steps, step_size, blur,
                   pre_relu_weight, gray=False, callback=None):
    """Gradient ascent on images, each towards its own filter's mean response.

    The network side of activation maximization (see ``textures.py``): image
    ``j`` of ``start`` (RGB, 0-255) climbs the mean response of filter
    ``filters[j]`` of ``layer``, after the ReLU plus ``pre_relu_weight`` times
    before it; each step moves by ``step_size`` times the gradient over its
    root mean square, then blurs with a Gaussian of ``blur`` pixels (0: none).
    With ``gray``, the images are one gray channel fed to all three inputs
    (``start`` must be gray): every channel moves by the channels' mean
    gradient. ``callback(k)``, if given, is called after step ``k``.

    Returns
    -------
    raw : ndarray (b, size, size, 3)
        The final images, RGB on the 0-255 scale (unclipped).
    activation, initial : ndarray (b,)
        Each filter's mean activation at the end and at the start.
    """
    tf, _ = import_tensorflow()

    step, measure = _ascent_functions(weights_key, layer, blur, pre_relu_weight, gray)
    x = tf.constant(caffe_preprocess(start))
    f = tf.constant(np.asarray(filters, dtype=np.int32))
    rate = tf.constant(step_size, dtype=tf.float32)
    initial = measure(x, f).numpy()
    for k in range(steps):
        x = step(x, f, rate)
        if callback is not None:
            callback(k + 1)
    activation = measure(x, f).numpy() if steps else initial
    bgr = x.numpy()
    raw = (bgr + CAFFE_BGR_MEAN)[..., ::-1]  # undo the caffe preprocessing
    return np.ascontiguousarray(raw, dtype=np.float32), activation, initial


@functools.lru_cache(maxsize=8)
def _ascent_functions(weights_key, layer, blur, pre_relu_weight, gray):
    """The compiled step and measuring functions for one layer of one network.

    Built once per process per (weights, layer, blur, weight, gray) and traced once. Not
    XLA-compiled: on CPU, XLA made the gradient step up to 2x slower (block 3
    and 4), unlike the forward pass, which it speeds up.
    """
    tf, keras = import_tensorflow()

    base = _network(weights_key)
    conv = base.get_layer(layer)
    # The network up to the layer's input, then the layer's convolution by
    # hand: the objective needs the filter's response before its ReLU.
    if layer == CONV_LAYERS[0]:
        before = None
    else:
        before = keras.Model(base.input, conv.input)
    kernel, bias = (tf.constant(w) for w in conv.get_weights())
    blur_kernel = _gaussian_kernel(blur) if blur > 0 else None

    def responses(x, filters):
        inputs = x if before is None else before(x, training=False)
        z = tf.nn.bias_add(tf.nn.conv2d(inputs, kernel, 1, "SAME"), bias)
        return tf.gather(z, filters, axis=3, batch_dims=1)  # (b, h, w): own filter each

    # One trace for every batch and image size: the shapes are left open.
    images = tf.TensorSpec([None, None, None, 3], tf.float32)
    indices = tf.TensorSpec([None], tf.int32)

    @tf.function(input_signature=[images, indices])
    def measure(x, filters):
        return tf.reduce_mean(tf.nn.relu(responses(x, filters)), axis=[1, 2])

    @tf.function(input_signature=[images, indices, tf.TensorSpec([], tf.float32)])
    def step(x, filters, rate):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = responses(x, filters)
            objective = tf.reduce_mean(tf.nn.relu(z), axis=[1, 2]) + pre_relu_weight * (
                tf.reduce_mean(z, axis=[1, 2])
            )
            # Images do not interact in VGG16, so the gradient of the sum is
            # each image's gradient of its own objective: b filters, one pass.
            total = tf.reduce_sum(objective)
        grad = tape.gradient(total, x)
        if gray:
            # x = g [1, 1, 1] (minus the caffe means): d/dg is the sum of the channel
            # gradients; every channel moves by their mean, and the RMS below is that
            # mean's own, so the step is gray ascent's (the sum's factor 3 cancels).
            grad = tf.broadcast_to(tf.reduce_mean(grad, axis=3, keepdims=True), tf.shape(grad))
        rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=[1, 2, 3], keepdims=True))
        x = x + rate * grad / (rms + 1e-8)
        if blur_kernel is not None:
            radius = blur_kernel.shape[0] // 2
            # Reflect, not zero, padding: zeros would darken the edges every step.
            padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT")
            x = tf.nn.depthwise_conv2d(padded, blur_kernel, [1, 1, 1, 1], "VALID")
        return x

    return step, measure


def blur_radius(sigma):
    """Half-width, in pixels, of the Gaussian blur kernel of standard deviation ``sigma``."""
    return max(1, int(np.ceil(3 * sigma)))


def _gaussian_kernel(sigma):
    """A (2r+1, 2r+1, 3, 1) normalized Gaussian for depthwise_conv2d."""
    tf, _ = import_tensorflow()

    t = np.arange(-blur_radius(sigma), blur_radius(sigma) + 1)
    g = np.exp(-(t**2) / (2 * sigma**2))
    g /= g.sum()
    kernel = np.outer(g, g).astype(np.float32)
    return tf.constant(np.tile(kernel[:, :, None, None], (1, 1, 3, 1)))
