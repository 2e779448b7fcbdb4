"""The Kubernetes manifests and the KServe InferenceService a render ships (include_kubernetes), checked offline as
a cluster and a platform team would: each kustomization builds (kubectl kustomize), every object passes the strict
schemas of two Kubernetes versions, checkov fails no check, the InferenceService fits the KServe SDK's models, and
the manifests agree with the service's real settings. Then the pod's conditions are reproduced around the real
server (a read-only root, user 10001, no capabilities, only its emptyDir paths writable) and its probes answered,
and KServe's own REST client is answered by /v2."""

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import kserve
import kubernetes.client
import numpy as np
import pytest
import yaml

from .conftest import Server, made_once, request

KUBERNETES_VERSIONS = ("1.30", "1.37")  # the oldest release still commonly run; the newest kubernetes-validate has
KUSTOMIZATIONS = ("base", "overlays/production")
INFERENCE_SERVICE = "deploy/kserve/inferenceservice.yaml"
CHECKOV = "checkov>=3.2,<4"
# How the kubelet's probes and Prometheus name a pod in the Host header: its address on the pod network.
POD_ADDRESS = "10.244.1.7:8000"
needs_kubectl = pytest.mark.needs("kubectl")


@pytest.fixture(scope="module")
def built(default_project) -> dict[str, list[dict]]:
    """Each kustomization -> its objects, as `kubectl kustomize` (what `kubectl apply -k` sends) builds them."""
    objects = {}
    for name in KUSTOMIZATIONS:
        folder = default_project / "deploy" / "kubernetes" / name
        result = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        objects[name] = list(yaml.safe_load_all(result.stdout))
    return objects


@pytest.fixture(scope="module")
def inference_service(default_project) -> dict:
    return yaml.safe_load((default_project / INFERENCE_SERVICE).read_text(encoding="utf-8"))


def the(objects: list[dict], kind: str) -> dict:
    (found,) = [item for item in objects if item["kind"] == kind]
    return found


def pod_template(objects: list[dict]) -> dict:
    return the(objects, "Deployment")["spec"]["template"]


def server_container(pod_spec: dict) -> dict:
    (container,) = pod_spec["containers"]
    return container


def settings(project: Path) -> dict:
    return yaml.safe_load((project / "config" / "config.yaml").read_text(encoding="utf-8"))


@needs_kubectl
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_object_passes_the_strict_schema_of_kubernetes(built, kustomization, version, tmp_path, run_in):
    manifest = tmp_path / "built.yaml"
    manifest.write_text(yaml.safe_dump_all(built[kustomization]), encoding="utf-8")
    result = run_in(tmp_path, "kubernetes-validate", "--strict", "--kubernetes-version", version, str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(built[kustomization])


@pytest.fixture(scope="session")
def checkov(run_folder) -> Path:
    """checkov in a virtual environment of its own, made by uv once per run: it pins packaging<24, which pytest
    cannot use."""

    def make(venv):
        uv = Path(sys.executable).parent / "uv"
        for command in (
            [uv, "venv", "--quiet", "--python", sys.executable, venv],
            [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", CHECKOV],
        ):
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr

    return made_once(run_folder / "checkov-venv", make) / "bin" / "checkov"


@needs_kubectl
@pytest.mark.parametrize("target", ["the files as written", "the production overlay as built"])
def test_checkov_fails_no_check_and_every_skip_says_why(default_project, built, checkov, target, tmp_path):
    if target == "the files as written":
        scanned = ["--directory", str(default_project / "deploy")]
    else:
        (tmp_path / "production.yaml").write_text(yaml.safe_dump_all(built["overlays/production"]), encoding="utf-8")
        scanned = ["--file", str(tmp_path / "production.yaml")]
    command = [checkov, "--framework", "kubernetes", "--output", "json", "--skip-download", *scanned]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    failed = [(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]]
    assert (result.returncode, failed) == (0, [])
    assert report["summary"]["passed"] >= 80  # the pod's whole security context and more were checked
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"]["suppress_comment"]) > 20, skipped["check_id"]


def sdk_object(value, kind: str, path: str = ""):
    """The KServe SDK's model (or the Kubernetes client's, which it uses) of `kind` built from a manifest's
    `value`; a field the model does not have is an error, so a misspelt or misplaced field cannot pass."""
    if kind.startswith("list["):
        return [sdk_object(item, kind[5:-1], f"{path}[{index}]") for index, item in enumerate(value)]
    if kind.startswith("dict("):
        inner = kind[5:-1].split(", ", 1)[1]
        return {key: sdk_object(item, inner, f"{path}.{key}") for key, item in value.items()}
    model = getattr(kserve.models, kind, None) or getattr(kubernetes.client.models, kind, None)
    if model is None:  # str, int, bool, object
        return value
    assert isinstance(value, dict), f"{path}: a {kind} must be a mapping"
    fields = {manifest_name: name for name, manifest_name in model.attribute_map.items()}
    unknown = sorted(set(value) - set(fields))
    assert not unknown, f"{path}: {kind} has no field(s) {unknown}"
    return model(
        **{
            fields[key]: sdk_object(item, model.openapi_types[fields[key]], f"{path}.{key}")
            for key, item in value.items()
        }
    )


def test_the_inference_service_fits_the_kserve_sdks_models(inference_service):
    service = sdk_object(inference_service, "V1beta1InferenceService")
    assert service.metadata.annotations["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert server_container(inference_service["spec"]["predictor"])["name"] == "kserve-container"
    misspelt = json.loads(json.dumps(inference_service).replace("readOnlyRootFilesystem", "readOnlyRootFileSystem"))
    with pytest.raises(AssertionError, match=r"V1SecurityContext has no field\(s\) \['readOnlyRootFileSystem'\]"):
        sdk_object(misspelt, "V1beta1InferenceService")


@needs_kubectl
def test_the_container_listens_on_the_configured_port(default_project, built, inference_service):
    port = settings(default_project)["server"]["port"]
    template = pod_template(built["base"])
    assert [item["containerPort"] for item in server_container(template["spec"])["ports"]] == [port]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    predictor = inference_service["spec"]["predictor"]
    assert [item["containerPort"] for item in server_container(predictor)["ports"]] == [port]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert server_container(predictor)[probe]["httpGet"]["port"] == port


@needs_kubectl
def test_the_pods_run_as_the_images_user(default_project, built, inference_service):
    dockerfile = (default_project / "Dockerfile").read_text(encoding="utf-8")
    user = int(re.search(r"^USER (\d+)$", dockerfile, re.MULTILINE).group(1))
    assert f"useradd --create-home --no-log-init --uid {user} " in dockerfile
    for pod in (pod_template(built["base"])["spec"], inference_service["spec"]["predictor"]):
        assert pod["securityContext"]["runAsUser"] == user


@needs_kubectl
def test_the_grace_period_covers_the_pre_stop_pause_and_the_servers_graceful_timeout(
    default_project, built, inference_service
):
    graceful = settings(default_project)["server"]["graceful_timeout_seconds"]
    for pod in (pod_template(built["base"])["spec"], inference_service["spec"]["predictor"]):
        sleep, seconds = server_container(pod)["lifecycle"]["preStop"]["exec"]["command"]
        assert sleep == "sleep"
        assert pod["terminationGracePeriodSeconds"] >= int(seconds) + graceful


@needs_kubectl
@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_selectors_and_references_meet_what_they_name(built, kustomization):
    objects = built[kustomization]
    deployment, template = the(objects, "Deployment"), pod_template(objects)
    labels, container = template["metadata"]["labels"], server_container(template["spec"])
    selectors = [
        deployment["spec"]["selector"]["matchLabels"],
        the(objects, "Service")["spec"]["selector"],
        the(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        the(objects, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"],
        *(spread["labelSelector"]["matchLabels"] for spread in template["spec"]["topologySpreadConstraints"]),
    ]
    assert all(selector.items() <= labels.items() for selector in selectors)
    target = the(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment["metadata"]["name"],
    )
    port_names = {port["name"] for port in container["ports"]}
    assert the(objects, "Service")["spec"]["ports"][0]["targetPort"] in port_names
    assert [rule["ports"][0]["port"] for rule in the(objects, "NetworkPolicy")["spec"]["ingress"]] == ["http"]
    assert template["spec"]["serviceAccountName"] == the(objects, "ServiceAccount")["metadata"]["name"]
    (settings_reference,) = container["envFrom"]
    assert settings_reference["configMapRef"]["name"] == the(objects, "ConfigMap")["metadata"]["name"]
    mounted = {mount["name"] for mount in container["volumeMounts"]}
    assert mounted == {volume["name"] for volume in template["spec"]["volumes"] if "emptyDir" in volume}
    namespace = the(objects, "Namespace")["metadata"]["name"]
    assert {item["metadata"]["namespace"] for item in objects if item["kind"] != "Namespace"} == {namespace}
    assert "Secret" not in {item["kind"] for item in objects}  # the key is referenced, never written here
    secrets_referenced = [variable for variable in container["env"] if variable["name"] in ("SECRET_KEY", "API_KEYS")]
    assert [set(variable) for variable in secrets_referenced] == [{"name", "valueFrom"}] * 2


@needs_kubectl
def test_the_probes_and_security_of_the_inference_service_are_the_deployments(built, inference_service):
    pod, predictor = pod_template(built["base"])["spec"], inference_service["spec"]["predictor"]
    container, kserve_container = server_container(pod), server_container(predictor)
    assert predictor["securityContext"] == pod["securityContext"]
    for field in ("securityContext", "lifecycle", "resources", "volumeMounts"):
        assert kserve_container[field] == container[field], field
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        ours, theirs = dict(container[probe]), dict(kserve_container[probe])
        assert ours.pop("httpGet")["path"] == theirs.pop("httpGet")["path"]
        assert ours == theirs, probe


@needs_kubectl
def test_the_production_overlay_pins_the_image_by_digest(built):
    image = server_container(pod_template(built["overlays/production"])["spec"])["image"]
    assert re.fullmatch(r"[\w.-]+/[\w.-]+@sha256:[0-9a-f]{64}", image), image


def as_the_pod_runs(pod_spec: dict, project: Path, folder: Path) -> list[str]:
    """A command prefix that runs the server as the pod would: in a mount namespace of its own whose root is
    read-only, with fresh memory-backed folders where the pod has emptyDir volumes (/tmp at folder/tmp here, since
    this run's files live under /tmp: TMPDIR points there), as the pod's user, without privileges or capabilities."""
    user = pod_spec["securityContext"]["runAsUser"]
    (folder / "tmp").mkdir()
    mounts = [*python_for_everyone(project, folder), "mount -o remount,bind,ro /"]
    mounts.append(f"mount -t tmpfs -o size=64m,uid={user},mode=0700 tmpfs {folder / 'tmp'}")
    container = server_container(pod_spec)
    pod_tmp = {variable["name"]: variable.get("value") for variable in container["env"]}["TMPDIR"]
    for mount in container["volumeMounts"]:
        if mount["mountPath"] != pod_tmp:
            mounts.append(f"mount -t tmpfs -o size=64m,mode=1777 tmpfs {mount['mountPath']}")
    drop = f"setpriv --reuid={user} --regid={user} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all"
    # A mount namespace takes root: through sudo when the tests run as another user (sudo resets PATH).
    path = f"PATH={project / '.venv' / 'bin'}:{os.environ['PATH']}"
    as_root = [] if os.geteuid() == 0 else ["sudo", "--non-interactive", "--preserve-env", "env", path]
    return [*as_root, "unshare", "--mount", "sh", "-c", " && ".join(mounts) + f' && exec {drop} "$@"', "sh"]


def python_for_everyone(project: Path, folder: Path) -> list[str]:
    """Mounts that let another user run the project's Python when it is installed in a private folder (pyenv's,
    in root's home): that folder is replaced, in the namespace only, by an empty one holding just the interpreter."""
    install = Path(os.path.realpath(project / ".venv" / "bin" / "python")).parents[1]
    private = [parent for parent in install.parents if not parent.stat().st_mode & 0o001]
    if not private:
        return []
    (folder / "python").mkdir()
    return [
        f"mount --bind {install} {folder / 'python'}",
        f"mount -t tmpfs -o mode=0755 tmpfs {private[-1]}",
        f"mkdir -p {install}",
        f"mount --bind {folder / 'python'} {install}",
    ]


def reachable_by_others(project: Path) -> None:
    """Let other users pass through the folders above the project (pytest makes them owner-only), as they may
    reach the image's /app; nothing in them becomes readable or writable."""
    for parent in project.parents:
        if not parent.stat().st_mode & 0o001:
            parent.chmod(parent.stat().st_mode | 0o001)


@pytest.mark.slow
@pytest.mark.e2e
@needs_kubectl
def test_the_pod_serves_from_a_read_only_root_as_its_user_and_answers_its_probes(installed_project, built, tmp_path):
    objects = built["overlays/production"]
    pod = pod_template(objects)["spec"]
    container = server_container(pod)
    api_key = secrets.token_urlsafe(32)
    secret = {"SECRET_KEY": secrets.token_hex(32), "API_KEYS": api_key, "TMPDIR": str(tmp_path / "tmp")}
    reachable_by_others(installed_project)
    wrapper = as_the_pod_runs(pod, installed_project, tmp_path)
    server = Server(installed_project, wrapper, variables={**the(objects, "ConfigMap")["data"], **secret})
    try:
        server.wait_ready(headers={"Host": POD_ADDRESS})
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        assert re.search(rf"^Uid:\s+{pod['securityContext']['runAsUser']}\s", status, re.MULTILINE), status
        assert re.search(r"^CapEff:\s+0+$", status, re.MULTILINE), status
        root = [
            line
            for line in Path(f"/proc/{server.process.pid}/mountinfo").read_text().splitlines()
            if line.split()[4] == "/"
        ]
        assert "ro" in root[0].split()[5].split(","), root
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            path = container[probe]["httpGet"]["path"]
            assert request(server.port, "GET", path, headers={"Host": POD_ADDRESS})[0] == 200, probe
        service = the(objects, "Service")["metadata"]["name"]
        headers = {"Host": service, "Authorization": f"Bearer {api_key}"}
        answered = request(server.port, "POST", "/predict", {"features": [5.1, 3.5, 1.4, 0.2]}, headers)
        assert (answered[0], answered[2]["predictions"]) == (200, ["setosa"])
        annotations = pod_template(objects)["metadata"]["annotations"]
        scraped = request(server.port, "GET", annotations["prometheus.io/path"], headers={"Host": POD_ADDRESS})
        assert scraped[0] == 200
        assert "predictions_total{" in scraped[2]  # counted from the worker's files, in /dev/shm
        assert request(server.port, "GET", "/health", headers={"Host": "evil.example"})[0] == 400
        log = server.output()
        assert "Traceback" not in log, log
        assert "Read-only file system" not in log, log
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.e2e
def test_kserves_own_rest_client_is_answered_by_v2(server, inference_service):
    """KServe's InferenceRESTClient (kserve on PyPI), which no one here wrote, against the live server."""
    base = f"http://127.0.0.1:{server.port}"
    name = inference_service["metadata"]["name"]
    metadata = request(server.port, "GET", f"/v2/models/{name}")[2]
    (model_input,) = metadata["inputs"]
    rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    infer_input = kserve.InferInput(model_input["name"], list(rows.shape), model_input["datatype"])
    binary_input = kserve.InferInput(model_input["name"], list(rows.shape), model_input["datatype"])
    infer_input.set_data_from_numpy(rows, binary_data=False)  # the JSON form
    binary_input.set_data_from_numpy(rows, binary_data=True)  # the binary extension, which is refused

    async def ask():
        client = kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v2", retries=0, timeout=10))
        try:
            states = [
                await client.is_server_live(base),
                await client.is_server_ready(base),
                await client.is_model_ready(base, name),
            ]
            answer = await client.infer(base, kserve.InferRequest(name, [infer_input], request_id="kserve-1"), name)
            with pytest.raises(httpx.HTTPStatusError, match="the binary tensor data extension is not supported"):
                await client.infer(base, kserve.InferRequest(name, [binary_input]), name)
            return states, answer
        finally:
            await client.close()

    states, answer = asyncio.run(ask())
    assert states == [True, True, True]
    assert answer.id == "kserve-1"
    outputs = {output.name: output for output in answer.outputs}
    assert list(outputs) == [output["name"] for output in metadata["outputs"]]
    assert outputs["label"].as_numpy().tolist() == ["setosa", "virginica"]
    probabilities = outputs["probabilities"].as_numpy()
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1)
