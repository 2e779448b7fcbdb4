"""The template's own Python (hooks, filters, these tests) is held to the rules it gives its users."""

import pytest

from .conftest import TEMPLATE

OWN_CODE = ["hooks", "tests", "tools", "local_extensions.py"]


@pytest.mark.parametrize("command", [["ruff", "check"], ["ruff", "format", "--check"]], ids=" ".join)
def test_ruff_passes_on_the_templates_own_code(run_in, command):
    result = run_in(TEMPLATE, *command, *OWN_CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_on_the_templates_hooks_filter_and_tools(run_in):
    """pyproject.toml's [tool.mypy] says what and how strictly; the hooks are read unrendered, as ruff reads them."""
    result = run_in(TEMPLATE, "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
