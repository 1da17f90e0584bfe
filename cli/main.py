"""`simtune`: the command line of Simtune, a thin client of the gateway's HTTP API.

One group per context, named as the context is (`trainer`, `registry`, `benchmark`), each a
package `cli/<group>/` with its commands, how it follows long work and how it shows things.
The groups' earlier names (`train`, `adapters`, `bench`) still work, hidden from the help, so
that scripts written for them do not break."""

from __future__ import annotations

import typer

from cli.accounts import commands as accounts
from cli.accounts import data as account_data
from cli.accounts import deleting as account_deleting  # noqa: F401  (account delete)
from cli.admin import commands as admin
from cli.answers import commands as answers
from cli.benchmark import commands as benchmark
from cli.client import DEFAULT_URL
from cli.community import commands as community
from cli.datasets import commands as datasets
from cli.documents import commands as documents
from cli.experts import commands as experts
from cli.projections import commands as projections
from cli.registry import commands as registry
from cli.templates import commands as templates
from cli.trainer import commands as trainer

app = typer.Typer(
    help="Simtune: turn your own documents into your own expert.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(experts.app, name="experts")
app.add_typer(documents.app, name="documents")
app.add_typer(documents.commands)  # ingest, search
app.add_typer(answers.commands)  # ask, draft, feedback, traces
app.add_typer(answers.backend, name="backend")
app.add_typer(projections.app, name="projections")
app.add_typer(datasets.app, name="datasets")
app.add_typer(trainer.app, name="trainer")
app.add_typer(registry.app, name="registry")
app.add_typer(benchmark.app, name="benchmark")
app.add_typer(templates.app, name="templates")
app.add_typer(community.app, name="community")
app.add_typer(accounts.commands)  # login, logout, whoami
app.add_typer(accounts.keys, name="keys")
app.add_typer(account_data.account, name="account")  # export, import
app.add_typer(admin.app, name="admin")

# The earlier names of the groups, kept for scripts that use them.
OLD_NAMES = {"train": trainer.app, "adapters": registry.app, "bench": benchmark.app}
for old_name, group in OLD_NAMES.items():
    app.add_typer(group, name=old_name, hidden=True)


@app.callback()
def main(
    ctx: typer.Context,
    url: str = typer.Option(
        DEFAULT_URL, "--url", envvar="SIMTUNE_URL", help="Where the Simtune gateway runs."
    ),
) -> None:
    ctx.obj = {"url": url}


if __name__ == "__main__":
    app()
