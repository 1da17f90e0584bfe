from runtime.service import run_service
from services.ingest.api import NAME, build

run_service(NAME, "ingest", build)
