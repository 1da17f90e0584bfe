"""`simtune login|logout|whoami` and `simtune keys`: who the CLI acts for (the accounts
context, through the gateway)."""
