from runtime.service import run_service
from services.expert.wiring import NAME, build

run_service(NAME, "expert", build)
