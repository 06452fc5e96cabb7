"""WithColumns: processing records beside the texture features, in one encoding step.

Ling et al. end on their next step: texture features together with the
composition and processing of each sample. The records travel with the images
(X as a table, :mod:`sklearn_cnntexture.io.records`) and reach this step with
the activations (:attr:`Activations.records`), so the pipeline keeps its shape
(``vgg`` -> ``encode`` -> model) and the study's grid, the model files and the
explanations keep working: ``encode`` is the texture encoder wrapped with the
columns. Numeric columns are scaled, categorical ones one-hot encoded, by a
scikit-learn :class:`~sklearn.compose.ColumnTransformer` fitted on the records.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InputError
from ..io import DataWarning, records

__all__ = ["COLUMN_PREFIX", "WithColumns", "check_columns"]

#: The prefix of a column feature's name (``columns__anneal_time_minutes``,
#: ``columns__cool_method=WQ``): what tells it from a texture.
COLUMN_PREFIX = "columns__"

#: What stands for an empty cell of a categorical column when missing="impute".
MISSING_CATEGORY = "(missing)"


class WithColumns(TransformerMixin, BaseEstimator):
    """Texture features and columns of the data table side by side.

    Put it where the encoder goes, after a
    :class:`~sklearn_cnntexture.VGGLayerTransformer` that was given ``X`` as
    a table (a data set's ``frame``): the encoder encodes the activations and
    the named columns of each image's row are added beside them, numbers
    scaled to zero mean and unit variance, categories one-hot encoded. With
    ``encoder=None`` only the columns remain: the images never go through the
    network (the activations are lazy), which is the "process record alone"
    baseline a study compares the micrographs with.

    Parameters
    ----------
    encoder : encoder estimator or None, default=None
        :class:`MeanPool`, :class:`MaxPool`, :class:`GramEncoder`,
        :class:`VLADEncoder` or :class:`MultiLayerUnion`, cloned when fitted;
        None: the columns only.
    columns : list of str, default=()
        Columns of the data table. A column whose cells are all numbers (NaN
        for empty ones) is numeric; any other is categorical.
    missing : {"error", "impute"}, default="error"
        Empty cells: refused, naming the column, the count and the first
        row's image; or imputed (numbers by the training median with a
        missing-indicator feature, categories as a category of their own).

    Attributes
    ----------
    encoder_ : estimator or None
        The fitted encoder.
    columns_transformer_ : ColumnTransformer or None
        Fitted on the training rows' columns; None without columns.
    numeric_columns_ : list of str
    categorical_columns_ : list of str
    categories_ : dict of str to list
        The categories each categorical column was fitted with: a category
        seen only at transform time gets no feature of its own (all zeros),
        and a :class:`~sklearn_cnntexture.io.DataWarning` says so.

    See Also
    --------
    sklearn.compose.ColumnTransformer : What encodes the columns.
    sklearn_cnntexture.io.records : X as a table of images.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from PIL import Image
    >>> from sklearn_cnntexture import MeanPool, VGGLayerTransformer
    >>> from sklearn_cnntexture.features import WithColumns
    >>> folder = tempfile.mkdtemp()
    >>> paths = [f"{folder}/{i}.png" for i in range(3)]
    >>> for i, path in enumerate(paths):
    ...     Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(path)
    >>> X = pd.DataFrame({"path": paths, "time": [5.0, 90.0, 600.0],
    ...                   "cooling": ["Q", "FC", "Q"]})
    >>> vgg = VGGLayerTransformer("C1_1", weights=None, random_state=0)
    >>> step = WithColumns(MeanPool(), columns=["time", "cooling"])
    >>> step.fit_transform(vgg.transform(X)).shape
    (3, 67)
    >>> step.get_feature_names_out()[-3:].tolist()
    ['columns__time', 'columns__cooling=FC', 'columns__cooling=Q']
    """

    _parameter_constraints = {
        "encoder": [HasMethods(["fit", "transform"]), None],
        "columns": [list, tuple],
        "missing": [StrOptions({"error", "impute"})],
    }

    def __init__(self, encoder=None, columns=(), missing="error"):
        self.encoder = encoder
        self.columns = columns
        self.missing = missing

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the encoder on the activations and the columns' encoding on the rows.

        Parameters
        ----------
        X : Activations or array-like
            Activations of a table of images (with ``records``); a plain array
            works only without columns.
        y : None
            Ignored.

        Returns
        -------
        self : WithColumns
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then transform ``X``, the encoder in one pass where it can."""
        self._validate_params()
        return self._fit(X, transform=True)

    def _fit(self, X, transform=False):
        if self.encoder is None and not self.columns:
            raise InputError("WithColumns needs an encoder, columns, or both")
        columns = self._checked_columns()
        self.encoder_ = None if self.encoder is None else clone(self.encoder)
        encoded = None
        if self.encoder_ is not None and transform:
            encoded = self.encoder_.fit_transform(X)  # one pass where the encoder can
        elif self.encoder_ is not None:
            self.encoder_.fit(X)
        if hasattr(self.encoder_, "n_features_in_"):  # plain array input
            self.n_features_in_ = self.encoder_.n_features_in_
        self.numeric_columns_, self.categorical_columns_, self.categories_ = [], [], {}
        self.columns_transformer_ = None
        if columns:
            table = self._records(X, columns, fitted=False)
            for name in columns:
                numeric = table[name].dtype.kind in "biuf" and table[name].dtype.kind != "b"
                (self.numeric_columns_ if numeric else self.categorical_columns_).append(name)
            self.columns_transformer_ = self._column_transformer().fit(table)
            onehot = (self.columns_transformer_.named_transformers_["categorical"][-1]
                      if self.categorical_columns_ else None)
            self.categories_ = {name: list(values) for name, values in
                                zip(self.categorical_columns_,
                                    [] if onehot is None else onehot.categories_)}
        return self._transformed(X, encoded) if transform else None

    def transform(self, X):
        """The encoder's features, then the columns' features.

        Parameters
        ----------
        X : Activations or array-like
            As in :meth:`fit`.

        Returns
        -------
        X_out : ndarray of shape (n_images, n_features_out)
        """
        check_is_fitted(self, "encoder_")
        encoded = None if self.encoder_ is None else self.encoder_.transform(X)
        return self._transformed(X, encoded)

    def _transformed(self, X, encoded):
        parts = [] if encoded is None else [np.asarray(encoded, dtype=np.float64)]
        if self.columns_transformer_ is not None:
            table = self._records(X, list(self.columns))
            self._warn_unseen(table)
            parts.append(np.asarray(self.columns_transformer_.transform(table),
                                    dtype=np.float64))
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def get_feature_names_out(self, input_features=None):
        """The encoder's feature names, then ``columns__<name>`` (``=<category>``).

        Parameters
        ----------
        input_features : None
            Passed to the encoder.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self, "encoder_")
        names = ([] if self.encoder_ is None
                 else list(self.encoder_.get_feature_names_out(input_features)))
        if self.columns_transformer_ is not None:
            for name in self.columns_transformer_.get_feature_names_out():
                part, _, column = name.partition("__")
                if part == "categorical":
                    column = self._category_name(column)
                elif column.startswith("missingindicator_"):
                    column = column.removeprefix("missingindicator_") + " is missing"
                names.append(COLUMN_PREFIX + column)
        return np.asarray(names, dtype=object)

    def _category_name(self, onehot_name):
        """``cool_method_WQ`` (the one-hot encoder's) as ``cool_method=WQ``."""
        for name in self.categorical_columns_:
            if onehot_name.startswith(name + "_"):
                return f"{name}={onehot_name[len(name) + 1:]}"
        return onehot_name  # pragma: no cover - every category is of a fitted column

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # -- the columns ----------------------------------------------------------------

    def _checked_columns(self):
        columns = list(self.columns)
        bad = [name for name in columns if not isinstance(name, str) or not name]
        if bad:
            raise InputError(f"columns must name columns of the data table, got {bad!r}")
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:
            raise InputError(f"columns names {', '.join(repeated)} more than once")
        return columns

    def _records(self, X, columns, fitted=True):
        """The named columns of the images' rows, refusing what is absent or empty."""
        return check_columns(getattr(X, "records", None), columns, self.missing,
                             fitted=fitted)

    def _column_transformer(self):
        impute = self.missing == "impute"
        numeric = make_pipeline(
            *([SimpleImputer(strategy="median", add_indicator=True)] if impute else []),
            StandardScaler())
        categorical = make_pipeline(
            *([SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)]
              if impute else []),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64))
        parts = []
        if self.numeric_columns_:
            parts.append(("numeric", numeric, list(self.numeric_columns_)))
        if self.categorical_columns_:
            parts.append(("categorical", categorical, list(self.categorical_columns_)))
        return ColumnTransformer(parts, verbose_feature_names_out=True)

    def _warn_unseen(self, table):
        """Say which categories the columns were not fitted with (encoded as none)."""
        unseen = []
        for name, known in self.categories_.items():
            cells = table[name]
            if self.missing == "impute":
                cells = cells.fillna(MISSING_CATEGORY)
            new = sorted({str(value) for value in cells if value not in set(known)})
            if new:
                count = int((~cells.isin(known)).sum())
                unseen.append(f"{name}: {', '.join(map(repr, new))} ({count} images)")
        if unseen:
            warnings.warn(
                "categories the model was not fitted with, encoded as none of the known ones "
                "(all their one-hot features 0): " + "; ".join(unseen), DataWarning,
                stacklevel=3)


@validate_params({"table": ["array-like", None], "columns": [list, tuple],
                  "missing": [StrOptions({"error", "impute"})], "fitted": ["boolean"]},
                 prefer_skip_nested_validation=True)
def check_columns(table, columns, missing="error", *, fitted=False):
    """The named columns of a table of images, refusing what is absent or empty.

    The one check of a data table's columns: by :class:`WithColumns`, and by
    the study and ``predict`` before any image goes through the network.

    Parameters
    ----------
    table : pandas.DataFrame or None
        The table of images (``path`` names them in messages); anything else
        (a list of images, None) is refused: columns come from a table.
    columns : list of str
    missing : {"error", "impute"}, default="error"
        With ``"error"``, an empty cell is refused.
    fitted : bool, default=False
        Whether a fitted model asks (the message says it needs them).

    Returns
    -------
    columns : pandas.DataFrame
        Those columns, indexed 0..n-1.

    Raises
    ------
    InputError
        For images that are no table; naming the absent columns and those the
        table has; or the empty column, its count and the first row's image.
    """
    if records.table_of(table) is None:
        raise InputError(
            f"the model takes the data columns {', '.join(columns)} beside the textures: "
            "give the images in a CSV (X a DataFrame) with these columns" if fitted else
            f"columns {', '.join(columns)} come from a table of images: give X as a "
            "DataFrame (a data set's frame) holding them, not a list of images")
    absent = [name for name in columns if name not in table.columns]
    if absent:
        raise InputError(
            f"the data has no column {', '.join(absent)} (it has: "
            f"{', '.join(map(str, table.columns))})"
            + (f"; the model was fitted with the columns {', '.join(columns)} and needs "
               "them" if fitted else ""))
    part = table[list(columns)].reset_index(drop=True)
    if missing == "error":
        for name in columns:
            empty = np.flatnonzero(part[name].isna().to_numpy())
            if len(empty):
                path = table["path"].iloc[empty[0]] if "path" in table.columns else None
                raise InputError(
                    f"column {name!r} is empty in {len(empty)} of {len(part)} rows, the "
                    f"first row {int(empty[0])}" + (f" ('{path}')" if path is not None else "")
                    + ": fill the cells, drop the column, or impute them "
                    + ("(fit with --impute-missing)" if fitted
                       else "(missing='impute', --impute-missing)"))
    return part
