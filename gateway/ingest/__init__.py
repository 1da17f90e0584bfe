"""The ingest context: an expert's documents. The JSON API (`api`: upload, list, read,
delete, the original file), the console's upload form and live table (`pages`), the upload
itself (`uploads`), and the documents with the status a person sees (`documents`, merging
ingest's view with the knowledge index's by the rules of `status`)."""

from __future__ import annotations

from gateway.http.routes import tagged
from gateway.ingest import api, pages

ROUTES = [
    tagged("knowledge", api.ROUTES),  # /api/experts/{id}/documents, /api/documents/{id}[/file]
    *pages.ROUTES,  # /ui/experts/{id}/documents (upload, table, live), /ui/documents/{id}/delete
]
