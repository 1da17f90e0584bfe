"""The registry: an expert's adapter versions — registered from training runs and imports,
activated, rolled back, tagged, verified, exported and deleted, with the audit trail read
from the log."""
