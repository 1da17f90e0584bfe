"""`simtune admin`: what is done on the server machine itself, without the gateway and
without a key: who may sign in (the accounts context, over NATS)."""
