"""`simtune templates`: the person's own reasoning templates (the community context's local
side): list, show, create, edit, apply to an expert, publish and fork."""
