"""`simtune registry`: an expert's adapter versions and their audit trail (the registry
context)."""
