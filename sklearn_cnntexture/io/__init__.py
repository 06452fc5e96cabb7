"""Reading micrographs: files, intensities, geometry and microscope metadata.

Three private modules, one job each: ``_read`` (files and formats: suffixes,
listing, headers, whole or memory-mapped reads, the pixel limit),
``_pixels`` (intensities on VGG16's scale, crops and the info banner,
resizing and resampling to a pixel size) and ``_metadata`` (the pixel size a
microscope wrote in the file). ``datasets`` builds data sets on them.
"""

from ._metadata import read_pixel_size
from ._pixels import (
    CROP_CONSTRAINT,
    DataWarning,
    check_crop,
    crop_bottom,
    find_banner_height,
    network_input_sizes,
    resample_to_pixel_size,
    resampled_size,
    resize_image,
    to_float_intensities,
    to_rgb_float,
)
from ._read import (
    IMAGE_SUFFIXES,
    MAX_IMAGE_PIXELS,
    check_no_broken_links,
    image_channels,
    image_size,
    is_image_path,
    list_image_files,
    read_image,
    read_image_lazily,
)

__all__ = [
    "CROP_CONSTRAINT",
    "DataWarning",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "check_crop",
    "check_no_broken_links",
    "crop_bottom",
    "find_banner_height",
    "image_channels",
    "image_size",
    "is_image_path",
    "list_image_files",
    "network_input_sizes",
    "read_image",
    "read_image_lazily",
    "read_pixel_size",
    "resample_to_pixel_size",
    "resampled_size",
    "resize_image",
    "to_float_intensities",
    "to_rgb_float",
]
