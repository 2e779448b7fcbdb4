"""Jinja filters the template needs beyond cookiecutter's own (loaded through `_extensions`)."""

import json

from cookiecutter.utils import simple_filter


@simple_filter
def escaped(value):
    """User text escaped to sit between double quotes in TOML, YAML or Python alike.

    JSON's escaping, with non-ASCII kept as is (no surrogate pairs), satisfies all three
    grammars once the pre-generation hook has refused control characters.
    """
    return json.dumps(value, ensure_ascii=False)[1:-1]
