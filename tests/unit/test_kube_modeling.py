"""`KubeModel.present_fields`: which of a model's options a manifest chose, by their wire names."""

from __future__ import annotations

from pydantic import Field

from kube.modeling import KubeModel


class _Choice(KubeModel):
    set_weight: int | None = None
    pause: dict[str, str] | None = None
    list_: list[str] | None = Field(default=None, alias="list")
    note: str = ""


def test_every_field_holding_a_value_is_named_by_its_camel_case_wire_name_in_declaration_order() -> None:
    choice = _Choice.model_validate({"pause": {}, "setWeight": 20})

    assert choice.present_fields() == ["setWeight", "pause", "note"]


def test_a_value_that_is_falsy_but_present_counts_as_chosen() -> None:
    choice = _Choice.model_validate({"setWeight": 0, "list": []})

    assert choice.present_fields(["setWeight", "list"]) == ["setWeight", "list"]


def test_the_names_asked_about_come_back_in_the_order_asked() -> None:
    choice = _Choice.model_validate({"setWeight": 5, "pause": {}})

    assert choice.present_fields(["pause", "setWeight"]) == ["pause", "setWeight"]


def test_an_explicit_alias_is_the_wire_name() -> None:
    choice = _Choice.model_validate({"list": ["a"]})

    assert choice.present_fields(["setWeight", "pause", "list"]) == ["list"]


def test_a_field_the_model_does_not_declare_is_never_named() -> None:
    choice = _Choice.model_validate({"traffic": {"weight": 5}})

    assert choice.present_fields() == ["note"]
