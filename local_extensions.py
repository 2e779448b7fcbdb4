"""Jinja filters the template needs beyond cookiecutter's own (loaded through `_extensions`), and a quieter
refusal: cookiecutter imports this module before the pre-generation hook runs."""

import json
import logging

from cookiecutter.utils import simple_filter


class HookRefusalWithoutTraceback(logging.Filter):
    """When the pre-generation hook refuses an answer it prints why; cookiecutter then logs its own
    FailedHookException with a traceback, which buries that message. Keep its line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Stopping generation because"):
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("cookiecutter.hooks").addFilter(HookRefusalWithoutTraceback())


@simple_filter  # type: ignore[untyped-decorator]  # cookiecutter has no type annotations
def escaped(value: str) -> str:
    """User text escaped to sit between double quotes in TOML, YAML or Python alike.

    JSON's escaping, with non-ASCII kept as is (no surrogate pairs), satisfies all three
    grammars once the pre-generation hook has refused control characters.
    """
    return json.dumps(value, ensure_ascii=False)[1:-1]
