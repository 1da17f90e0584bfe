"""`simtune ingest`, `simtune documents` and `simtune search`: an expert's documents."""
