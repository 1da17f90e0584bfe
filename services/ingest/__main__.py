from runtime.service import run_service
from services.ingest.wiring import NAME, build

run_service(NAME, "ingest", build)
