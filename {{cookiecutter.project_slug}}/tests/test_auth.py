"""API keys: with API_KEYS set, every route but the probes needs `Authorization: Bearer <key>`; production
refuses to start without keys unless config says a proxy authenticates; no key is ever logged."""

import secrets

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ConfigError,
    api_keys,
)

PROBES = ["/health", "/ready", "/v2/health/live", "/v2/health/ready"]


@pytest.fixture
def keys(monkeypatch):
    """Two valid keys, set in API_KEYS as an operator would (comma-separated, spaces around)."""
    pair = (secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    monkeypatch.setenv("API_KEYS", f"{pair[0]} , {pair[1]}")
    return pair


@pytest.fixture
def keyed(make_config, config, keys):
    """keyed(**server) -> a test client of the app with API keys, and those server settings."""

    def make(**server):
        settings = make_config(model={"artifact_path": config.model.artifact_path}, server=server)
        return create_app(settings).test_client()

    return make


def protected_requests(v2) -> list[tuple[str, str, object]]:
    """(method, path, JSON body) of every route that needs a key."""
    return [
        ("GET", "/model", None),
        ("POST", "/predict", {}),
        ("GET", "/openapi.json", None),
        ("GET", f"/v2/models/{v2.name}", None),
        ("POST", v2.infer, {}),
    ]


def test_without_a_key_every_api_route_is_401_with_a_bearer_challenge(keyed, v2, assert_error):
    client = keyed()
    for method, path, body in protected_requests(v2):
        response = client.open(path, method=method, json=body)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer", path
        if path.startswith("/v2"):
            assert v2.error(response, 401).startswith("this route needs an API key")
        else:
            assert "Authorization: Bearer <key>" in assert_error(response, 401, "unauthorized")["message"]


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer not-a-key", "Basic dXNlcjpwYXNz", "bearer{key}x", "Token {key}"]
)
def test_a_wrong_key_or_scheme_is_401(keyed, keys, header):
    response = keyed().get("/model", headers={"Authorization": header.format(key=keys[0])})
    assert response.status_code == 401


def test_each_configured_key_opens_every_route(keyed, keys, v2, one):
    client = keyed()
    for key in keys:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/model", headers=headers).status_code == 200
        assert client.post("/predict", json=one, headers=headers).status_code == 200
        assert client.get("/openapi.json", headers=headers).status_code == 200
        assert client.get(f"/v2/models/{v2.name}", headers=headers).status_code == 200
    assert client.get("/model", headers={"Authorization": f"bearer {keys[1]}"}).status_code == 200  # any case


@pytest.mark.parametrize("path", PROBES)
def test_the_probes_need_no_key(keyed, path):
    assert keyed().get(path).status_code == 200


def test_an_untrusted_host_is_400_before_any_key_is_asked_for(keyed):
    client = keyed(trusted_hosts=["api.example.com"])
    assert client.get("/model", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/model", headers={"Host": "api.example.com"}).status_code == 401
{%- if cookiecutter.enable_metrics %}


def test_metrics_need_a_key_only_when_config_says_so(keyed, keys):
    assert keyed().get("/metrics").status_code == 200
    assert keyed(metrics_needs_api_key=True).get("/metrics").status_code == 401
    headers = {"Authorization": f"Bearer {keys[0]}"}
    assert keyed(metrics_needs_api_key=True).get("/metrics", headers=headers).status_code == 200
{%- endif %}
{%- if cookiecutter.include_web_ui %}


def test_the_page_needs_a_key_unless_config_opens_it(keyed):
    assert keyed().get("/").status_code == 401
    assert keyed(page_needs_api_key=False).get("/").status_code == 200
{%- endif %}


def test_no_key_is_ever_logged(keyed, keys, capsys, one):
    client = keyed()
    client.post("/predict", json=one, headers={"Authorization": f"Bearer {keys[0]}"})
    client.post("/predict", json=one, headers={"Authorization": f"Bearer {keys[1]}x"})
    logged = capsys.readouterr()
    assert logged.err.count('"status":200') == 1
    assert logged.err.count('"status":401') == 1
    assert keys[0] not in logged.out + logged.err
    assert keys[1] not in logged.out + logged.err


def test_the_openapi_document_declares_the_bearer_scheme_and_the_open_probes(keyed, keys):
    headers = {"Authorization": f"Bearer {keys[0]}"}
    document = keyed().get("/openapi.json", headers=headers).get_json()
    assert document["components"]["securitySchemes"] == {"apiKey": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"apiKey": []}]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert "401" in document["paths"]["/predict"]["post"]["responses"]
    assert "401" not in document["paths"]["/health"]["get"]["responses"]


def test_without_keys_the_api_is_open_and_its_document_declares_no_scheme(client):
    assert client.get("/model").status_code == 200
    document = client.get("/openapi.json").get_json()
    assert "security" not in document
    assert "securitySchemes" not in document["components"]


def test_production_refuses_to_start_without_keys_unless_a_proxy_authenticates(make_config):
    production = make_config(environment="production")
    with pytest.raises(ConfigError, match=r"API_KEYS \(or API_KEYS_FILE\) must be set .* 'server.require_api_keys'"):
        api_keys(production, env={})
    assert api_keys(make_config(environment="production", server={"require_api_keys": False}), env={}) == ()
    assert api_keys(make_config(), env={}) == ()  # development: keys only if given


@pytest.mark.parametrize("weak", ["short", "a" * 40, "change-me"])
def test_a_weak_key_is_refused_without_quoting_it(make_config, weak):
    strong = secrets.token_urlsafe(32)
    with pytest.raises(ConfigError, match=r"API key 2 is too weak: use 32 or more random characters") as refused:
        api_keys(make_config(), env={"API_KEYS": f"{strong},{weak}"})
    assert weak not in str(refused.value)
    assert strong not in str(refused.value)


def test_keys_can_come_from_a_mounted_file(make_config, tmp_path):
    first, second = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    (tmp_path / "keys").write_text(f"{first}\n{second}\n")
    assert api_keys(make_config(), env={"API_KEYS_FILE": str(tmp_path / "keys")}) == (first, second)
    with pytest.raises(ConfigError, match=r"API_KEYS_FILE .*missing: cannot be read"):
        api_keys(make_config(), env={"API_KEYS_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match=r"set API_KEYS or API_KEYS_FILE, not both"):
        api_keys(make_config(), env={"API_KEYS": first, "API_KEYS_FILE": str(tmp_path / "keys")})
