"""Hosted fine-tuning: a run trained by a provider that speaks the OpenAI fine-tuning API.

- `training`: the run's backend — the dataset uploaded, the job created and followed, the
  provider's model recorded as the run's adapter.
- `client`: the fine-tuning API client (upload, create, follow, cancel).
- `chat_file`: the training file checked as the provider checks it, before the upload.
- `provider`: one request at a time to the provider, with retries and plain-sentence errors.
- `events`: the job's events read in the order they happened, turned into progress.
"""
