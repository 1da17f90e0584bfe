from runtime.service import run_service
from services.benchmark.wiring import NAME, build

run_service(NAME, "benchmark", build)
