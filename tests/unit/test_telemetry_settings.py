"""Which OpenTelemetry exporter a process uses: the standard OTEL_EXPORTER_OTLP_ENDPOINT alone
turns the OTLP export on, SIMTUNE_OTEL_EXPORTER overrides it, and a bad value stops the start."""

import pytest

from runtime.settings import SettingsError, load_settings

COLLECTOR = "http://otel-collector:4318"


def test_nothing_is_exported_unless_asked():
    assert load_settings({}).otel_exporter == "none"


def test_a_collector_endpoint_alone_chooses_otlp():
    assert load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR}).otel_exporter == "otlp"
    https = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example.org"}
    assert load_settings(https).otel_exporter == "otlp"


@pytest.mark.parametrize("chosen", ["none", "console", "otlp", "OTLP"])
def test_simtune_otel_exporter_wins_over_the_endpoint(chosen):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR, "SIMTUNE_OTEL_EXPORTER": chosen}
    assert load_settings(env).otel_exporter == chosen.lower()


def test_otlp_without_an_endpoint_is_allowed():
    # the exporter's own default (a collector on this machine) applies
    assert load_settings({"SIMTUNE_OTEL_EXPORTER": "otlp"}).otel_exporter == "otlp"


def test_an_unknown_exporter_is_refused_by_name():
    with pytest.raises(SettingsError, match="SIMTUNE_OTEL_EXPORTER.*'otlp'.*'jaeger'"):
        load_settings({"SIMTUNE_OTEL_EXPORTER": "jaeger"})


@pytest.mark.parametrize(
    "endpoint", ["otel-collector:4318", "grpc://collector:4317", "http://", "127.0.0.1"]
)
def test_a_malformed_endpoint_is_refused_naming_the_variable(endpoint):
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_ENDPOINT must be an http"):
        load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
