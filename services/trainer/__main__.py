from runtime.service import run_service
from services.trainer.api import NAME, build

run_service(NAME, "trainer", build)
