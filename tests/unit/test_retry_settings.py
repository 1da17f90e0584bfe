"""The waits between tries: of a failed background job, of one stopped by an outage, of a view
stuck on an event, and of a call to a fine-tuning provider. Tests make them short; in use
they are what they were."""

import pytest

from runtime.settings import load_settings
from tests.unit.test_settings import refused_naming


def test_defaults():
    s = load_settings({})
    assert (s.retry_backoff_s, s.outage_retry_s, s.hosted_backoff_s) == (2.0, 5.0, 0.5)
    assert s.stuck_retry_s == 30.0


def test_values_from_the_environment():
    s = load_settings(
        {
            "SIMTUNE_RETRY_BACKOFF_S": "0.5",
            "SIMTUNE_OUTAGE_RETRY_S": "1",
            "SIMTUNE_HOSTED_BACKOFF_S": "0.05",
            "SIMTUNE_STUCK_RETRY_S": "2",
        }
    )
    assert (s.retry_backoff_s, s.outage_retry_s, s.hosted_backoff_s) == (0.5, 1.0, 0.05)
    assert s.stuck_retry_s == 2.0


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SIMTUNE_RETRY_BACKOFF_S": "0"}, ["SIMTUNE_RETRY_BACKOFF_S", "between 0.01 and 60"]),
        ({"SIMTUNE_RETRY_BACKOFF_S": "soon"}, ["SIMTUNE_RETRY_BACKOFF_S", "a number"]),
        ({"SIMTUNE_OUTAGE_RETRY_S": "301"}, ["SIMTUNE_OUTAGE_RETRY_S", "between 0.01 and 300"]),
        ({"SIMTUNE_OUTAGE_RETRY_S": "nan"}, ["SIMTUNE_OUTAGE_RETRY_S", "between"]),
        ({"SIMTUNE_HOSTED_BACKOFF_S": "-1"}, ["SIMTUNE_HOSTED_BACKOFF_S", "between 0.01 and 60"]),
        ({"SIMTUNE_HOSTED_BACKOFF_S": "inf"}, ["SIMTUNE_HOSTED_BACKOFF_S", "between"]),
        ({"SIMTUNE_STUCK_RETRY_S": "0"}, ["SIMTUNE_STUCK_RETRY_S", "between 0.1 and 3600"]),
    ],
)
def test_out_of_range_values_are_refused_naming_the_variable(env, words):
    refused_naming(env, words)
