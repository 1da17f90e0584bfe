from runtime.service import run_service
from services.accounts.wiring import NAME, build

run_service(NAME, "accounts", build)
