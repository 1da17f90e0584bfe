from runtime.service import run_service
from services.knowledge.api import NAME, build

run_service(NAME, "knowledge", build)
