from runtime.service import run_service
from services.knowledge.wiring import NAME, build

run_service(NAME, "knowledge", build)
