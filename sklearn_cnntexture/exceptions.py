"""The library's one exception type for what a user can fix.

:class:`InputError` is raised where data, a parameter, a path or a file the
user gave cannot work: a message of one line naming it and saying what to do.
It is a ``ValueError``, so code that catches ``ValueError`` keeps working.
The command line turns it, and only it, into one line on stderr; any other
exception is a bug of the library (or of a library under it) and keeps its
traceback.
"""

__all__ = ["InputError"]


class InputError(ValueError):
    """Data, a parameter, a path or a file given by the user cannot work.

    The message is one line: what is wrong, naming the file, argument or
    value, and what to do about it.

    Examples
    --------
    >>> from sklearn_cnntexture.exceptions import InputError
    >>> isinstance(InputError("'a.png' is 3 x 3 pixels"), ValueError)
    True
    """
