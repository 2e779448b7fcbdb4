"""GET /metrics: Prometheus' view of the traffic, read back through its own text parser."""

import secrets

import pytest
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }} import (
    task,
)
{%- if cookiecutter.include_web_ui %}
from {{ cookiecutter.package_name }}.api import (
    metrics,
)
{%- endif %}
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)


def scrape(client) -> dict[tuple, float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def change(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def predictions_by_label(before, after, version) -> dict[str, float]:
    """How many rows predictions_total counted between two scrapes, by label, for one model version."""
    counted = {}
    for (name, labels), value in after.items():
        labels = dict(labels)
        if name == "predictions_total" and labels["model_version"] == version:
            counted[labels["label"]] = value - before.get((name, tuple(sorted(labels.items()))), 0)
    return {label: rows for label, rows in counted.items() if rows}


@pytest.fixture
def invalid(model):
    """A body /predict refuses with 422: an item that is null."""
    return {model.inputs.single: None}


def test_requests_are_counted_by_route_method_and_status(client, one, invalid):
    before = scrape(client)
    for _ in range(3):
        client.post("/predict", json=one)
    client.post("/predict", json=invalid)
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="/predict", method="POST", status="200") == 3
    assert change(before, after, "http_requests_total", route="/predict", method="POST", status="422") == 1
    assert change(before, after, "http_request_duration_seconds_count", route="/predict") == 4


def test_requests_without_a_key_are_counted_as_401(make_config, config, one, monkeypatch):
    monkeypatch.setenv("API_KEYS", secrets.token_urlsafe(32))
    client = create_app(make_config(model={"artifact_path": config.model.artifact_path})).test_client()
    before = scrape(client)  # /metrics needs no key by default
    client.post("/predict", json=one)
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="/predict", method="POST", status="401") == 1
    assert change(before, after, "prediction_errors_total", code="unauthorized") == 1


def test_values_outside_the_training_range_are_counted_and_the_page_shows_their_share(client, model, example):
    before = scrape(client)
    client.post("/predict", json={"instances": [example, example]})
    if isinstance(example, str):  # a text: longer than any the model learnt from
        feature, unseen = "text_length", "x" * (model.inputs.lengths[1] + 1)
    else:  # a row: its first feature above the range it had in training
        feature = model.inputs.feature_names[0]
        unseen = [model.inputs.feature_ranges[feature]["max"] + 1, *example[1:]]
    client.post("/predict", json={"instances": [unseen, example]})
    after = scrape(client)
    assert change(before, after, "input_values_out_of_range_total", feature=feature) == 1
    {%- if cookiecutter.include_web_ui %}
    shares = metrics.out_of_range_shares()
    assert 0 < shares[feature] < 1
    assert f"{feature} {shares[feature] * 100:.1f} %" in client.get("/").get_data(as_text=True)
    {%- endif %}


def test_a_made_up_method_is_counted_as_other(client):
    before = scrape(client)
    client.open("/predict", method="BREW")
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="unmatched", method="other", status="405") == 1
    assert not any(("method", "BREW") in labels for _, labels in after)


def test_predictions_are_counted_by_model_version_and_the_output_kinds_tally(client, config, model):
    """Rows are counted by what the output kind tallies them under (a class, or the target's name), each once:
    here two training items of one target and one of another."""
    data = task.load_dataset(config.data)
    first, other = 0, next(index for index, target in enumerate(data.targets) if target != data.targets[0])
    batch = data.features[[first, first, other]].tolist()
    expected = model.outputs.tally(model.predict(model.inputs.validate(batch, len(batch))))
    before = scrape(client)
    assert client.post("/predict", json={"instances": batch}).status_code == 200
    counted = predictions_by_label(before, scrape(client), config.model.version)
    assert counted == dict(expected)
    assert sum(counted.values()) == len(batch)


@pytest.mark.parametrize(("body", "code"), [("invalid", "invalid_input"), ("too-many", "batch_too_large")])
def test_prediction_errors_are_counted_by_code(client, config, example, invalid, body, code):
    json = invalid if body == "invalid" else {"instances": [example] * (config.server.max_batch_rows + 1)}
    before = scrape(client)
    client.post("/predict", json=json)
    after = scrape(client)
    assert change(before, after, "prediction_errors_total", code=code) == 1
    assert predictions_by_label(before, after, config.model.version) == {}


def test_probes_and_scrapes_are_not_traffic(client):
    before = scrape(client)
    for path in ("/health", "/ready", "/metrics", "/v2/health/live", "/v2/health/ready"):
        assert client.get(path).status_code == 200
    after = scrape(client)
    counted = {key for key in after if key[0] == "http_requests_total" and after[key] != before.get(key, 0)}
    assert counted == set()


def test_the_served_model_is_described(client):
    metadata = client.get("/model").get_json()
    info = {"name": metadata["name"], "version": metadata["version"], "trained_at": metadata["created_at"]}
    assert scrape(client)[("model_info", tuple(sorted(info.items())))] == 1


def test_metrics_can_be_switched_off(make_config, config, one):
    app = create_app(make_config(model={"artifact_path": config.model.artifact_path}, server={"enable_metrics": False}))
    client = app.test_client()
    assert client.post("/predict", json=one).status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "server.enable_metrics" in response.get_json()["error"]["message"]
{%- if cookiecutter.include_web_ui %}


def test_the_model_card_page_is_traffic_by_route_and_its_predictions_count(
    client, config, model, example, page, page_form
):
    tally = model.outputs.tally(model.predict(model.inputs.validate([example], 1)))
    before = scrape(client)
    assert page.post(client, page_form).status_code == 200  # a GET / for the session's token, then the POST
    client.get("/static/web.css")
    client.get("/static/no-such-file.css")
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="/", method="GET", status="200") == 1
    assert change(before, after, "http_requests_total", route="/", method="POST", status="200") == 1
    assert predictions_by_label(before, after, config.model.version) == dict(tally)
    static = "/static/<path:filename>"
    assert change(before, after, "http_requests_total", route=static, method="GET", status="200") == 1
    assert change(before, after, "http_requests_total", route=static, method="GET", status="404") == 1
    assert not any("no-such-file" in str(labels) for _, labels in after)  # a path is never a label
{%- endif %}
