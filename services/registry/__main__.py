from runtime.service import run_service
from services.registry.wiring import NAME, build

run_service(NAME, "registry", build)
