"""The dataset builder of an expert: which sources to take examples from (and their limits),
the Build button, and the list of versions.

While a version is building, the versions fragment asks for itself again every second
(htmx polling), showing the stage and how far along it is; once nothing is building it
stops asking. Polling keeps this page independent of the event stream: it is right even
after a missed event, and a fresh page load shows the same thing.
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contracts.dataset import CancelBuild, GetDataset
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.dataset.datasets import list_datasets
from gateway.dataset.forms import GENERATORS, BuildForm
from gateway.dataset.views import versions
from gateway.http.pages import FORM, attempt, is_htmx


async def versions_context(backend: Backend, expert_id: str, after_seq: int = 0) -> dict:
    shown = versions(await list_datasets(backend, expert_id, after_seq=after_seq))
    return {"versions": shown, "building": any(v.building for v in shown)}


async def builder(
    backend: Backend,
    expert_id: str,
    *,
    form: BuildForm | None = None,
    error: str | None = None,
    started: int | None = None,
    fragment: bool = False,
    after_seq: int = 0,
    status: int = 200,
) -> Template:
    """The builder page, or (`fragment`) the form and the versions under it."""
    context = {
        "expert": await backend.ask(GetExpert(expert_id=expert_id)),
        "form": form or BuildForm.first(),
        "generators": GENERATORS,
        "error": error,
        "started": started,
        **await versions_context(backend, expert_id, after_seq),
    }
    name = "partials/dataset_builder.html" if fragment else "datasets.html"
    return Template(name, context=context, status_code=status)


class DatasetBuilderPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/datasets")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        return await builder(backend, expert_id)

    @post("/ui/experts/{expert_id:str}/datasets")
    async def build(
        self,
        request: Request,
        expert_id: str,
        backend: Backend,
        data: BuildForm = FORM,
    ) -> Response:
        accepted, error = await attempt(lambda: backend.send(data.command(expert_id)))
        if error is not None:
            fragment = is_htmx(request)
            return await builder(
                backend, expert_id, form=data, error=error, fragment=fragment, status=400
            )
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/datasets", status_code=303)
        view = await backend.ask(GetDataset(dataset_id=accepted.id, after_seq=accepted.seq))
        return await builder(
            backend,
            expert_id,
            form=data,
            started=view.version,
            fragment=True,
            after_seq=accepted.seq,
        )

    @get("/ui/experts/{expert_id:str}/datasets/versions")
    async def versions_fragment(self, expert_id: str, backend: Backend) -> Template:
        context = {"expert": await backend.ask(GetExpert(expert_id=expert_id))}
        context |= await versions_context(backend, expert_id)
        return Template("partials/dataset_versions.html", context=context)

    @post("/ui/datasets/{dataset_id:str}/cancel")
    async def cancel(self, request: Request, dataset_id: str, backend: Backend) -> Response:
        then = GetDataset(dataset_id=dataset_id)
        view = await backend.send(CancelBuild(dataset_id=dataset_id), then=then)
        if not is_htmx(request):
            return Redirect(f"/datasets/{dataset_id}", status_code=303)
        context = {"expert": await backend.ask(GetExpert(expert_id=view.expert_id))}
        context |= await versions_context(backend, view.expert_id)
        return Template("partials/dataset_versions.html", context=context)


ROUTES = [DatasetBuilderPages]
