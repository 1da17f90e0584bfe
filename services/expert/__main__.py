from runtime.service import run_service
from services.expert.api import NAME, build

run_service(NAME, "expert", build)
