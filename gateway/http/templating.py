"""Jinja templates (in `web/templates`) and static files (`web/static`, npm packages)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from gateway.http.multipart_stream import human_size
from gateway.http.security import csrf_token
from runtime.logs import get_logger

log = get_logger(__name__)

WEB = Path(__file__).resolve().parents[2] / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
VENDOR = WEB / "node_modules"  # `npm install` in web/ (htmx.org, htmx-ext-sse)
VENDOR_FILES = ("htmx.org/dist/htmx.min.js", "htmx-ext-sse/dist/sse.min.js")

# status -> (label, what it means for the person looking at it)
STATUS_TEXT = {
    "uploaded": ("Uploaded", "Waiting its turn to be read."),
    "parsing": ("Parsing", "Reading the text of the file."),
    "embedding": ("Embedding", "Learning the passages so they can be searched."),
    "ready": ("Ready", "Your expert can use this file now."),
    "rejected": ("Rejected", "Simtune could not use this file."),
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["STATUS_TEXT"] = STATUS_TEXT
    env.filters["size"] = human_size
    return env


def render(env: Environment, name: str, **context: object) -> str:
    return env.get_template(name).render(**context)


def template_config(env: Environment) -> TemplateConfig:
    engine = JinjaTemplateEngine.from_environment(env)
    engine.register_template_callable("csrf_token", csrf_token)  # in place of Litestar's own
    return TemplateConfig(instance=engine)


def static_routers() -> list:
    missing = [f for f in VENDOR_FILES if not (VENDOR / f).is_file()]
    if missing:
        log.warning(
            "web.vendor_missing",
            missing=missing,
            hint="run `npm ci` in web/ so pages can update live",
        )
    routers = [create_static_files_router(path="/static", directories=[STATIC], name="static")]
    if VENDOR.is_dir():
        routers.append(
            create_static_files_router(path="/static/vendor", directories=[VENDOR], name="vendor")
        )
    return routers
