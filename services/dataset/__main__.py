from runtime.service import run_service
from services.dataset.wiring import NAME, build

run_service(NAME, "dataset", build)
