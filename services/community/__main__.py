from contracts.community import CONTEXT
from runtime.service import run_service
from services.community.wiring import NAME, build

run_service(NAME, CONTEXT, build)
