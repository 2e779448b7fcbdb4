"""Tell the user what to do next: the same commands the generated README starts with."""

NEXT_STEPS = """
Created {{ cookiecutter.project_slug }}. Next:

    cd {{ cookiecutter.project_slug }}
    make run      # creates .venv, installs, trains the default model if none, serves on 0.0.0.0:8000
    curl -X POST localhost:8000/predict -H 'Content-Type: application/json' \\
         -d '{"features": [5.1, 3.5, 1.4, 0.2]}'
    make test     # the project's own tests, with its coverage gate
"""

if __name__ == "__main__":
    print(NEXT_STEPS)
