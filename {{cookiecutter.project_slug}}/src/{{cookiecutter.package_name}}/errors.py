"""The one error a client is told about, raised wherever a request is found wanting.

It sits below everything that raises it (the schemas, the model slot, the routes), so none of
them imports the app to say no.
"""

from collections.abc import Sequence
from typing import Any

# A 1000-row batch with a bad value in every row lists only the first ones.
MAX_DETAILS = 20


class ApiError(Exception):
    """An error the client is told about: its HTTP status and the fields of the JSON error body."""

    def __init__(
        self, message: str, details: Sequence[dict[str, Any]] = (), status: int = 422, code: str = "invalid_input"
    ):
        super().__init__(message)
        self.message = message
        self.details = list(details)[:MAX_DETAILS]
        self.status = status
        self.code = code


def shown(value: Any) -> str:
    """A client's value as an error message quotes it: a short string, number or flat list as written, anything
    else by its kind. (repr() of a list nested a thousand deep recurses, and a long one floods the message.)"""
    scalars = (str, int, float, bool, type(None))
    flat = isinstance(value, scalars) or (isinstance(value, list) and all(isinstance(item, scalars) for item in value))
    text = repr(value) if flat else ""
    return text if text and len(text) <= 60 else json_type(value)


def json_type(value: Any) -> str:
    """What a JSON value is, in the words a client reads in an error."""
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
