"""What the ingest service does on its own when events arrive, one reactor a module, each
named for what it reacts to:

- `uploads`: DocumentUploaded -> the file is read in a child process and chunked.
- `deletions`: DocumentDeleted -> the document's objects leave the object store.
- `expert_deletions`: ExpertDeleted (on the EXPERT stream) -> the expert's documents go too.
"""
