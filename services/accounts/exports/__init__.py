"""Export my data, import it into another Simtune: the moving between installs.

- `handlers.py`: `cmd.accounts.export`, `cmd.accounts.import` (the archive checked against its
  manifest first), `qry.accounts.data_job`.
- `exporting.py` (with `gathering.py`): the `accounts.export` job, gathering over NATS what
  every service holds for the tenant and packing one ZIP with `manifest.json` first.
- `restoring.py`: the `accounts.import` job, restoring each expert through the services'
  own commands.
- `projection.py`, `views.py`: `accounts.data_jobs`, the jobs' status, progress and reports.
- `sweeper.py`, `expiry.py`: old archives, stray objects and staging folders go.

The events (`contracts.accounts.exports`) carry counts, ids and Simtune's sentences only.
"""
