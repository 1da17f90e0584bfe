"""`simtune community`: the templates others published to the registry (the community
context's hub): search, show, import, rate, review and report."""
