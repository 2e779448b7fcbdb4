"""GET /metrics: Prometheus' view of the traffic, read back through its own text parser."""

{% if cookiecutter.include_web_ui -%}
import re

{% endif -%}
import pytest
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
{%- if cookiecutter.example_task == "text" %}

NURSE = "Registered nurse with six years in intensive care; administered medication and managed wound care."
ENGINEER = "Backend developer who designed REST APIs in Go and reviewed code for junior developers."
# (instance, its class): sent twice, and once, to count predictions by class.
TWICE, ONCE = (NURSE, "nurse"), (ENGINEER, "software_engineer")
ONE = {"text": NURSE}
INVALID = {"text": ""}
TOO_MANY = {"instances": [NURSE] * 1001}
{%- else %}

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]
# (instance, its class): sent twice, and once, to count predictions by class.
TWICE, ONCE = (SETOSA, "setosa"), (VIRGINICA, "virginica")
ONE = {"features": SETOSA}
INVALID = {"features": [1]}
TOO_MANY = {"instances": [SETOSA] * 1001}
{%- endif %}


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


def test_requests_are_counted_by_route_method_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.post("/predict", json=ONE)
    client.post("/predict", json=INVALID)
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="/predict", method="POST", status="200") == 3
    assert change(before, after, "http_requests_total", route="/predict", method="POST", status="422") == 1
    assert change(before, after, "http_request_duration_seconds_count", route="/predict") == 4


def test_a_made_up_method_is_counted_as_other(client):
    before = scrape(client)
    client.open("/predict", method="BREW")
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="unmatched", method="other", status="405") == 1


def test_predictions_are_counted_by_model_version_and_class(client, config):
    (twice, twice_label), (once, once_label) = TWICE, ONCE
    before = scrape(client)
    client.post("/predict", json={"instances": [twice, twice, once]})
    after = scrape(client)
    version = config.model.version
    assert change(before, after, "predictions_total", model_version=version, label=twice_label) == 2
    assert change(before, after, "predictions_total", model_version=version, label=once_label) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [(INVALID, "invalid_input"), (TOO_MANY, "batch_too_large")],
)
def test_prediction_errors_are_counted_by_code(client, body, code):
    before = scrape(client)
    client.post("/predict", json=body)
    assert change(before, scrape(client), "prediction_errors_total", code=code) == 1


def test_probes_and_scrapes_are_not_traffic(client):
    before = scrape(client)
    for path in ("/health", "/ready", "/metrics", "/v2/health/live", "/v2/health/ready"):
        client.get(path)
    after = scrape(client)
    counted = {key for key in after if key[0] == "http_requests_total" and after[key] != before.get(key, 0)}
    assert counted == set()


def test_the_served_model_is_described(client, config):
    metadata = client.get("/model").get_json()
    info = {"name": metadata["name"], "version": metadata["version"], "trained_at": metadata["created_at"]}
    assert scrape(client)[("model_info", tuple(sorted(info.items())))] == 1


def test_metrics_can_be_switched_off(make_config, config):
    app = create_app(make_config(model={"artifact_path": config.model.artifact_path}, server={"enable_metrics": False}))
    client = app.test_client()
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "server.enable_metrics" in response.get_json()["error"]["message"]
{%- if cookiecutter.include_web_ui %}


def test_the_model_card_page_is_traffic_by_route_and_its_predictions_count(client, config):
    before = scrape(client)
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
{%- if cookiecutter.example_task == "text" %}
    example, label = {"text": NURSE}, "nurse"
{%- else %}
    names = client.get("/model").get_json()["feature_names"]
    example, label = dict(zip(names, map(str, SETOSA), strict=True)), "setosa"
{%- endif %}
    client.post("/", data={"csrf_token": token, **example})
    client.get("/static/web.css")
    client.get("/static/no-such-file.css")
    after = scrape(client)
    assert change(before, after, "http_requests_total", route="/", method="GET", status="200") == 1
    assert change(before, after, "http_requests_total", route="/", method="POST", status="200") == 1
    assert change(before, after, "predictions_total", model_version=config.model.version, label=label) == 1
    static = "/static/<path:filename>"
    assert change(before, after, "http_requests_total", route=static, method="GET", status="200") == 1
    assert change(before, after, "http_requests_total", route=static, method="GET", status="404") == 1
    assert not any("no-such-file" in str(labels) for _, labels in after)  # a path is never a label
{%- endif %}
