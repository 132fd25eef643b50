"""ReportConfig: flat settings overrides, type coercion, German errors, round trip."""

import datetime as dt

import pytest

from helpers.config import ReportConfig
from helpers.exceptions import ConfigError


def test_flat_settings_override_top_level_and_sections():
    cfg = ReportConfig.from_settings(
        "Muster GmbH",
        {"gross_margin": "0.35", "clv.horizon_months": 6, "data.column_map": {"revenue": "Umsatz"},
         "observation_end": "2026-06-30", "pseudonymize": "nein"},
    )
    assert cfg.client_name == "Muster GmbH"
    assert cfg.gross_margin == 0.35
    assert cfg.clv.horizon_months == 6 and cfg.clv.holdout_weeks == 26  # others keep defaults
    assert cfg.data.column_map == {"revenue": "Umsatz"}
    assert cfg.observation_end == dt.date(2026, 6, 30)
    assert cfg.pseudonymize is False


def test_as_settings_round_trips():
    cfg = ReportConfig.from_settings("A", {"economics.cohort_period": "Q", "actions.budget": 500})
    again = ReportConfig.from_settings(None, cfg.as_settings())
    assert again == cfg


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"clv.foo": 1}, "Unbekannte Einstellung 'clv.foo'"),
        ({"foo.bar": 1}, "Unbekannter Einstellungsbereich 'foo'"),
        ({"gross_margin": 1.5}, "zwischen 0 und 1"),
        ({"clv.horizon_months": 1.5}, "ungültigen Wert"),
        ({"economics.cohort_period": "W"}, "'M' (Monat)"),
        ({"actions.budget": -1}, "actions.budget=-1.0"),
        ({"clv.horizon_months": 0}, "größer als 0"),
        ({"data.returns": "keep"}, "data.returns"),
    ],
)
def test_invalid_settings_are_german_config_errors(settings, fragment):
    with pytest.raises(ConfigError) as err:
        ReportConfig.from_settings("X", settings)
    assert fragment in str(err.value)
    assert err.value.exit_code == 2


def test_client_settings_merges_layers_and_the_column_map():
    from helpers.config import client_settings

    merged = client_settings({"clv": {"horizon_months": 6}, "gross_margin": 0.3},   # e.g. batch defaults
                             {"gross_margin": 0.4, "data.column_map": {"revenue": "Umsatz"}},
                             None, {"clv.horizon_months": "9"},                      # e.g. --set
                             column_map={"customer_id": "Kunde"})
    assert merged == {"clv.horizon_months": "9", "gross_margin": 0.4,
                      "data.column_map": {"revenue": "Umsatz", "customer_id": "Kunde"}}
    cfg = ReportConfig.from_settings("K", merged)
    assert cfg.clv.horizon_months == 9 and dict(cfg.data.column_map)["customer_id"] == "Kunde"
