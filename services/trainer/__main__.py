from runtime.service import run_service
from services.trainer.wiring import NAME, build

run_service(NAME, "trainer", build)
