"""The community context's aggregates, pure: a person's template (`template`), the template
an expert answers with (`applied`), and a registry template (`published`)."""
