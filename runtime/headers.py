"""The NATS headers Simtune sets, in one place: on every event appended to the log and on
every command or query sent between services."""

EVENT_ID = "Nats-Msg-Id"  # JetStream drops a re-sent duplicate with the same id
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Subject-Sequence"
EVENT_TYPE = "Simtune-Event-Type"
TENANT = "Simtune-Tenant"
OCCURRED_AT = "Simtune-Occurred-At"
# The request or event a chain of work started from, carried through every hop.
CORRELATION = "Simtune-Correlation-Id"
# The event that caused this one: set on what a reactor appends, and on the requests it sends,
# so "what caused this" can be followed back on the log from any event to the first one.
CAUSATION = "Simtune-Causation-Id"
