"""The generated README's Tour points learners at files and names: every one of them must exist in the render."""

from .tour import tour_problems, tour_rows

# Each idea the Tour promises to show, as it is worded in the idea column.
IDEAS = [
    "app factory",
    "blueprint",
    "route",
    "dynamic route",
    "`request` and `jsonify`",
    "`g`",
    "session",
    "jinja2 inheritance",
    "before-request hook",
    "after-request hook",
    "error handlers",
    "config kept apart from code",
    "load the model once",
    "safe persistence",
]


def test_every_file_and_name_the_tour_gives_is_in_the_default_render(default_project):
    rows = tour_rows((default_project / "README.md").read_text(encoding="utf-8"))
    assert len(rows) >= 25
    assert tour_problems(default_project) == []


def test_the_tour_shows_every_idea_it_promises(default_project):
    ideas = " ".join(idea.lower() for idea, _, _ in tour_rows((default_project / "README.md").read_text()))
    assert [idea for idea in IDEAS if idea not in ideas] == []


def test_the_check_names_a_missing_file_a_missing_name_and_a_template_without_it(tmp_path):
    (tmp_path / "README.md").write_text(
        "# A project\n\n## Tour\n\n| idea | file | name |\n| --- | --- | --- |\n"
        "| factory | `app.py` | `create_app` |\n"
        "| hook | `app.py` | `HOOKS` |\n"
        "| gone | `gone.py` | `anything` |\n"
        "| nested | `app.py` | `inner` |\n"
        '| inheritance | `page.html` | `{% extends "base.html" %}` |\n'
        "\n## Next section\n\n| outside | `gone.py` | `ignored` |\n"
    )
    (tmp_path / "app.py").write_text("HOOKS: list = []\n\n\ndef build():\n    def inner():\n        pass\n")
    (tmp_path / "page.html").write_text("<p>no inheritance</p>\n")
    assert tour_problems(tmp_path) == [
        "factory: app.py has no create_app",
        "gone: gone.py does not exist",
        "nested: app.py has no inner",
        'inheritance: page.html has no {% extends "base.html" %}',
    ]
