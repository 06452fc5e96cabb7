"""Microscope metadata: an image file's pixel size, from the tags its microscope wrote.

:func:`read_pixel_size` looks in a TIFF's FEI / Thermo Fisher tags, its Zeiss
SEM tags, ImageJ's description and the TIFF resolution tags. The file is
opened with the reading module's checks, so a bad file gets the same one-line
message as :func:`~sklearn_cnntexture.io.read_image` gives it.
"""

import numpy as np
import tifffile
from sklearn.utils._param_validation import validate_params

from ..exceptions import InputError
from ._read import PATH_CONSTRAINT, TIFF_SUFFIXES, check_file, reported_as_unreadable, single_page

__all__ = ["read_pixel_size"]

#: Micrometres per unit of the lengths microscopes write.
_MICROMETRES = {"m": 1e6, "mm": 1e3, "um": 1.0, "\u00b5m": 1.0, "\u03bcm": 1.0, "micron": 1.0,
                "microns": 1.0, "nm": 1e-3, "pm": 1e-6}
#: TIFF ResolutionUnit 3: the X/YResolution tags count pixels per centimetre.
_CENTIMETRE = 3


@validate_params(
    {"path": PATH_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def read_pixel_size(path):
    """An image file's pixel size in micrometres, from its own metadata, or None.

    Looked for, in order, in the TIFF tags of FEI / Thermo Fisher SEMs
    (``[Scan] PixelWidth``, in metres), of Zeiss SEMs (``AP_PIXEL_SIZE``, with
    its unit), ImageJ's description (``unit=micron`` with the resolution
    tags in pixels per micrometre), and the TIFF resolution tags when their
    unit is physical (centimetre). The inch is not taken: most software
    writes a meaningless 72 or 96 pixels per inch. Other formats carry no
    pixel size: None.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    float or None
        Micrometres per pixel (along the width).

    Raises
    ------
    ValueError
        If the metadata gives a pixel size that is not a positive number.
    """
    path = check_file(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return None
    with reported_as_unreadable(path), tifffile.TiffFile(path) as tif:
        page = single_page(tif, path)
        found = (_fei_pixel_size(tif) or _zeiss_pixel_size(tif) or _imagej_pixel_size(tif, page)
                 or _resolution_pixel_size(page))
    if found is None:
        return None
    size, where = found
    if not (np.isfinite(size) and size > 0):
        raise InputError(f"'{path}': its {where} gives the pixel size {size!r} um, not a "
                         "positive number")
    return float(size)


def _fei_pixel_size(tif):
    meta = tif.fei_metadata or {}
    for section in ("Scan", "EScan", "Image"):
        value = meta.get(section, {}).get("PixelWidth")
        if isinstance(value, (int, float)):
            return value * 1e6, "FEI metadata (PixelWidth, metres)"
    return None


def _zeiss_pixel_size(tif):
    meta = tif.sem_metadata or {}
    entry = meta.get("ap_image_pixel_size") or meta.get("ap_pixel_size")
    if not entry or len(entry) < 3 or not isinstance(entry[1], (int, float)):
        return None
    unit = str(entry[2]).strip().lower()
    if unit not in _MICROMETRES:
        return None
    return entry[1] * _MICROMETRES[unit], f"Zeiss SEM metadata ({entry[0]}, {entry[2]})"


def _imagej_pixel_size(tif, page):
    meta = tif.imagej_metadata or {}
    unit = str(meta.get("unit", "")).strip().lower()
    per_unit = _x_resolution(page)
    if unit not in _MICROMETRES or not per_unit:
        return None
    return _MICROMETRES[unit] / per_unit, f"ImageJ metadata (unit={unit})"


def _resolution_pixel_size(page):
    per_cm = _x_resolution(page)
    if page.tags.valueof("ResolutionUnit") != _CENTIMETRE or not per_cm:
        return None
    return 1e4 / per_cm, "TIFF resolution tags (pixels per centimetre)"


def _x_resolution(page):
    value = page.tags.valueof("XResolution")
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else None
    return float(value) if isinstance(value, (int, float)) else None
