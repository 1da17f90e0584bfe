"""Answering a question, the answers half of the expert service.

The ask flow, with I/O: `asking` (an `Ask` answered and traced), `generation` (the model
writing, streamed), `frames` (the live side of one answer), `deployed` (which adapter version
answers), `completion` (the model used directly: persona, completions, the backend test).

Pure pieces, no I/O: `prompts`, `persona`, `budget` and `conversation` (prompts in);
`sources`, `citations`, `guardrails` and `scoring` (checked and scored answers out).
"""
