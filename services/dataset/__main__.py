from runtime.service import run_service
from services.dataset.api import NAME, build

run_service(NAME, "dataset", build)
