"""The OpenAPI document's site schemas are the declaration's fields, and real responses conform to them."""
from __future__ import annotations

from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from sqlalchemy import text

from heshan_map import sitefields
from heshan_map.vocabulary import KINDS, PRECISIONS, STAGES

NUMBERS = [field.name for field in sitefields.FIELDS if field.type == "number"]


@pytest.fixture()
def document(client) -> dict[str, Any]:
    """Return the service's OpenAPI document."""
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    return document


def site_properties_validator(document: dict[str, Any]) -> OAS30Validator:
    """Return a validator of SiteProperties, reading nullable as OpenAPI 3.0 does."""
    return OAS30Validator(document["components"]["schemas"]["SiteProperties"])


def test_every_declared_field_is_in_site_properties_with_its_type(document) -> None:
    schema = document["components"]["schemas"]["SiteProperties"]
    assert set(schema["properties"]) == {field.name for field in sitefields.FIELDS}
    for field in sitefields.FIELDS:
        member = schema["properties"][field.name]
        assert member["type"] == sitefields.JSON_TYPES[field.type], field.name
        assert member.get("nullable", False) == field.nullable, field.name
        assert field.label_zh in member["description"] and field.label_en in member["description"]
    assert set(schema["required"]) == {field.name for field in sitefields.FIELDS if not field.nullable} - {"attributes"}
    assert schema["properties"]["updated_at"]["format"] == "date-time"


def test_code_fields_take_their_enums_from_the_vocabulary(document) -> None:
    properties = document["components"]["schemas"]["SiteProperties"]["properties"]
    assert properties["kind"]["enum"] == list(KINDS)
    assert properties["stage"]["enum"] == list(STAGES)
    assert properties["precision"]["enum"] == list(PRECISIONS)


def test_feature_input_takes_exactly_the_editable_fields(document) -> None:
    schema = document["components"]["schemas"]["FeatureInput"]["properties"]["properties"]
    assert set(schema["properties"]) == set(sitefields.EDITABLE)
    for name in sitefields.EDITABLE:
        field = sitefields.BY_NAME[name]
        assert schema["properties"][name]["type"] == sitefields.JSON_TYPES[field.type], name
        assert schema["properties"][name].get("nullable", False) == field.nullable, name
        if field.low is not None:
            assert schema["properties"][name]["minimum"] == field.low, name
        if field.high is not None:
            assert schema["properties"][name]["maximum"] == field.high, name
    assert any("maximum" in member for member in schema["properties"].values())
    assert not set(schema["properties"]) & set(sitefields.READ_ONLY)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_features_validate_against_site_properties(client, session, document, lang: str) -> None:
    session.execute(text("UPDATE sites SET attributes = '{\"备注2\": \"x\"}'::jsonb "
                         "WHERE id = (SELECT min(id) FROM sites WHERE kind = 'land_plot')"))
    validator = site_properties_validator(document)
    features = client.get(f"/api/features?limit=10000&lang={lang}").get_json()["features"]
    assert len(features) > 50
    assert any("attributes" in feature["properties"] for feature in features)
    assert any(feature["properties"][name] is not None for feature in features for name in NUMBERS)
    assert any(None in feature["properties"].values() for feature in features)  # nullable fields are tried
    for feature in features:
        validator.validate(feature["properties"])
    one = client.get(f"/api/features/{features[0]['id']}?lang={lang}").get_json()
    validator.validate(one["properties"])


def test_the_schema_refuses_properties_a_site_cannot_have(client, document) -> None:
    validator = site_properties_validator(document)
    properties = client.get("/api/features?limit=1").get_json()["features"][0]["properties"]
    validator.validate(properties)
    for name, wrong in (("kind", "factory"), ("precision", "guessed"), (NUMBERS[0], "5亿"),
                        ("name", None), ("version", "2")):
        with pytest.raises(ValidationError):
            validator.validate({**properties, name: wrong})
    with pytest.raises(ValidationError):
        validator.validate({key: value for key, value in properties.items() if key != "stage"})
