"""CORS: browser pages on the configured origins may call the API; other origins get no CORS headers."""

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ConfigError,
)

ALLOWED = "https://app.example.com"


@pytest.fixture
def cors_client(make_config, config):
    trained = {"artifact_path": config.model.artifact_path}
    return create_app(make_config(model=trained, server={"cors_origins": [ALLOWED]})).test_client()


def preflight(client, origin):
    asks = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Content-Type"}
    return client.options("/predict", headers={"Origin": origin, **asks})


def test_an_allowed_origin_passes_the_preflight_and_reads_the_answer(cors_client, one):
    assert preflight(cors_client, ALLOWED).headers["Access-Control-Allow-Origin"] == ALLOWED
    response = cors_client.post("/predict", json=one, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_another_origin_gets_no_cors_headers(cors_client, one):
    assert "Access-Control-Allow-Origin" not in preflight(cors_client, "https://evil.example").headers
    response = cors_client.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = cors_client.post("/predict", json=one, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_shipped_config_allows_only_a_local_development_origin(make_config):
    assert make_config().server.cors_origins == ["http://localhost:3000"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"environment": "production", "server": {"cors_origins": ["*"]}}, r"'server.cors_origins' must list"),
        ({"server": {"cors_origins": ["app.example.com"]}}, r"'server.cors_origins\[0\]' must be"),
        ({"server": {"cors_origins": ["https://app.example.com/path"]}}, r"'server.cors_origins\[0\]' must be"),
    ],
)
def test_a_bad_origin_setting_is_refused_by_name(make_config, overrides, named):
    with pytest.raises(ConfigError, match=named):
        make_config(**overrides)


def test_any_origin_is_allowed_outside_production_when_asked(make_config):
    assert make_config(server={"cors_origins": ["*"]}).server.cors_origins == ["*"]
