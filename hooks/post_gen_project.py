"""Remove what the chosen example task does not need, then tell the user what to do next: the same
commands the generated README starts with."""

import shutil
from pathlib import Path

# Paths in the project that only one example task needs; the other task's render must not keep them.
TASK_ONLY_PATHS = {"text": ["data"]}

NEXT_STEPS = """
Created {{ cookiecutter.project_slug }}. Next:

    cd {{ cookiecutter.project_slug }}
    make run      # creates .venv, installs, trains the default model if none, serves on 0.0.0.0:8000
    curl -X POST localhost:8000/predict -H 'Content-Type: application/json' \\
{%- if cookiecutter.example_task == "text" %}
         -d '{"text": "Registered nurse with six years in intensive care and wound care"}'
{%- else %}
         -d '{"features": [5.1, 3.5, 1.4, 0.2]}'
{%- endif %}
    make test     # the project's own tests, with its coverage gate
"""


def remove_unchosen_task_files(task):
    """Delete the files that only another example task needs (the hook runs in the new project's folder)."""
    for other, paths in TASK_ONLY_PATHS.items():
        if other != task:
            for path in paths:
                shutil.rmtree(Path(path))


if __name__ == "__main__":
    remove_unchosen_task_files("{{ cookiecutter.example_task }}")
    print(NEXT_STEPS)
