"""Finding the expert a registry command is about and the version it names. ADAPTER arguments
take the id or a unique start of it, looked up among the expert's own versions only, so a
command can never touch another expert's adapter; `base` stands for the base model (no
adapter) wherever a version can be activated or measured."""

from __future__ import annotations

import typer

from cli.args import expert_of
from cli.client import Client
from cli.resolve import resolve_adapter

BASE = "base"  # the API's name for the base model in an activation or a rollback

AdapterArg = typer.Argument(
    ..., metavar="ADAPTER", help="The adapter's id, or the start of it if no other id starts so."
)


def version_option(flag: str, help: str) -> typer.models.OptionInfo:
    """An option naming one of the expert's versions, or `base`."""
    return typer.Option(None, flag, metavar="ADAPTER|base", help=help)


def versions_of(client: Client, expert: dict) -> list[dict]:
    return client.get("/api/lora", expert_id=expert["id"])


def adapter_ref(client: Client, expert: dict, ref: str, versions: list[dict] | None = None) -> str:
    """`base`, or the id of the expert's own version that `ref` names."""
    if ref.strip() == BASE:
        return BASE
    versions = versions_of(client, expert) if versions is None else versions
    return resolve_adapter(versions, ref, expert["name"])["id"]


class Chosen:
    """The expert a command is about and its versions, fetched once per command."""

    def __init__(self, ctx: typer.Context, expert_ref: str) -> None:
        self.client, self.expert = expert_of(ctx, expert_ref)
        self.name: str = self.expert["name"]
        self.adapters: list[dict] = versions_of(self.client, self.expert)

    def adapter(self, ref: str) -> dict:
        return resolve_adapter(self.adapters, ref, self.name)

    def target(self, ref: str) -> str:
        """`base`, or the id of the version `ref` names."""
        return adapter_ref(self.client, self.expert, ref, self.adapters)

    def active(self) -> dict:
        return self.client.get("/api/lora/active", expert_id=self.expert["id"])
