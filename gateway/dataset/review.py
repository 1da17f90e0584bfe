"""One dataset version's page: its counts, exports, the candidates left out and why, and the
examples to review, a page at a time, filtered by split and source.

A version never changes. Editing, deleting or adding an example makes a new version (its
parent is this one); the reply says "Saved as version N" with a link to it, and the page
the person is on keeps showing this version as it was. A version still building asks for
its own page again every second (htmx, `hx-select`) until it is done.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contracts.dataset import (
    AddExample,
    DatasetView,
    DeleteExample,
    EditExample,
    ExamplePage,
    GetDataset,
    ListExamples,
    ListRejections,
    Source,
)
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.dataset.datasets import new_version
from gateway.dataset.forms import ExampleForm
from gateway.dataset.views import EXPORTS, SOURCES, Example, Version, reason_label
from gateway.http.fields import fields_from
from gateway.http.pages import FORM, attempt, is_htmx

PAGE_SIZE = 20
MAX_REJECTIONS_SHOWN = 200
Split = Literal["train", "val"]
CHANGED = {"edit": "Saved", "delete": "Deleted", "add": "Added"}


async def version_page(
    backend: Backend,
    dataset_id: str,
    *,
    split: Split | None = None,
    source: Source | None = None,
    offset: int = 0,
    saved: str = "",
    error: str | None = None,
    add_form: ExampleForm | None = None,
    status: int = 200,
) -> Template:
    view = await backend.ask(GetDataset(dataset_id=dataset_id))
    parent = await backend.ask(GetDataset(dataset_id=view.parent)) if view.parent else None
    page = ExamplePage(examples=[], total=0)
    rejections = []
    if view.status == "ready":
        query = ListExamples(
            dataset_id=dataset_id, split=split, source=source, limit=PAGE_SIZE, offset=offset
        )
        page = await backend.ask(query)
        rejections = (await backend.ask(ListRejections(dataset_id=dataset_id))).rejections
    filters = {k: v for k, v in {"split": split, "source": source}.items() if v}
    context = {
        "expert": await backend.ask(GetExpert(expert_id=view.expert_id)),
        "version": Version(view, parent.version if parent else None),
        "examples": [Example(e) for e in page.examples],
        "total": page.total,
        "filters": filters,
        "first": offset + 1,
        "last": offset + len(page.examples),
        "prev_params": {**filters, "offset": max(0, offset - PAGE_SIZE)} if offset else None,
        "next_params": {**filters, "offset": offset + PAGE_SIZE}
        if offset + PAGE_SIZE < page.total
        else None,
        "sources": SOURCES,
        "exports": EXPORTS,
        "rejections": [(reason_label(r.code), r) for r in rejections[:MAX_REJECTIONS_SHOWN]],
        "more_rejections": max(0, len(rejections) - MAX_REJECTIONS_SHOWN),
        "saved": await backend.ask(GetDataset(dataset_id=saved)) if saved else None,
        "error": error,
        "add_form": add_form or ExampleForm(),
    }
    return Template("dataset.html", context=context, status_code=status)


def saved_notice(change: str, new: DatasetView, old_id: str, example_id: str = "") -> Template:
    context = {"change": CHANGED[change], "new": new, "old_id": old_id, "example_id": example_id}
    return Template("partials/dataset_saved.html", context=context)


class DatasetReviewPages(Controller):
    include_in_schema = False

    @get("/datasets/{dataset_id:str}")
    async def page(
        self,
        dataset_id: str,
        backend: Backend,
        split: Split | None = Parameter(default=None),
        source: Source | None = Parameter(default=None),
        offset: int = Parameter(default=0, ge=0),
        saved: str = Parameter(default="", max_length=100),
    ) -> Template:
        """`saved`: the version a change just made (shown at the top, for forms without htmx)."""
        return await version_page(
            backend, dataset_id, split=split, source=source, offset=offset, saved=saved
        )

    @post("/ui/datasets/{dataset_id:str}/examples/{example_id:str}")
    async def edit(
        self,
        request: Request,
        dataset_id: str,
        example_id: str,
        backend: Backend,
        data: ExampleForm = FORM,
    ) -> Response:
        def edit() -> EditExample:
            return fields_from(
                EditExample, data.example(), dataset_id=dataset_id, example_id=example_id
            )

        new, error = await attempt(lambda: new_version(backend, edit()))
        if error is not None:
            if not is_htmx(request):
                return await version_page(backend, dataset_id, error=error, status=400)
            typed = {"id": example_id, **msgspec.structs.asdict(data)}
            context = {"ex": typed, "dataset_id": dataset_id, "error": error}
            return Template(
                "partials/dataset_example_actions.html", context=context, status_code=400
            )
        return self.changed(request, "edit", new, dataset_id, example_id)

    @post("/ui/datasets/{dataset_id:str}/examples/{example_id:str}/delete")
    async def delete(
        self, request: Request, dataset_id: str, example_id: str, backend: Backend
    ) -> Response:
        cmd = DeleteExample(dataset_id=dataset_id, example_id=example_id)
        new = await new_version(backend, cmd)
        return self.changed(request, "delete", new, dataset_id, example_id)

    @post("/ui/datasets/{dataset_id:str}/examples")
    async def add(
        self,
        request: Request,
        dataset_id: str,
        backend: Backend,
        data: ExampleForm = FORM,
    ) -> Response:
        new, error = await attempt(
            lambda: new_version(backend, AddExample(dataset_id=dataset_id, example=data.example()))
        )
        if error is not None:
            if not is_htmx(request):
                return await version_page(
                    backend, dataset_id, error=error, add_form=data, status=400
                )
            context = {"kind": "error", "detail": error}
            return Template("partials/alert.html", context=context, status_code=400)
        return self.changed(request, "add", new, dataset_id)

    @staticmethod
    def changed(
        request: Request, change: str, new: DatasetView, old_id: str, example_id: str = ""
    ) -> Response:
        if is_htmx(request):
            return saved_notice(change, new, old_id, example_id)
        return Redirect(f"/datasets/{old_id}?saved={new.id}", status_code=303)


ROUTES = [DatasetReviewPages]
