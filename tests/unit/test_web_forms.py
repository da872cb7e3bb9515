"""The step forms derived from the commands: each field's kind, label and default, and the
body read back from what was typed."""

from datetime import date

import msgspec

from api.http.steps import STEPS
from api.web.forms import REQUIRED, body, champs, decoding_error, initial
from api.web.labels import champ, valeur
from domain.commands import (
    DeciderOrientation,
    EnregistrerIssueRdv,
    LeverSanction,
    RouvrirDroit,
    SignerCer,
)


def kinds(command: type) -> dict[str, str]:
    return {f.name: f.kind for f in champs(command, {})}


def test_every_step_has_a_form_opening_on_its_date_of_effect() -> None:
    for step in STEPS:
        fields = champs(step.command, step.example)
        assert fields[0].name == "effective_on", step.slug
        assert fields[0].kind == "date"
        assert fields[0].required


def test_each_type_has_its_field() -> None:
    assert kinds(SignerCer) == {
        "effective_on": "date",
        "date_debut": "date",
        "duree_mois": "select",
    }
    assert kinds(EnregistrerIssueRdv)["numero"] == "number"
    assert kinds(LeverSanction)["motif"] == "textarea"  # free text: line breaks allowed
    assert kinds(DeciderOrientation)["structure_id"] == "text"  # an identifier: one line
    reouverture = kinds(RouvrirDroit)
    assert reouverture["soumis_droits_devoirs"] == "checkbox"
    assert "profil" not in reouverture  # a nested struct the flux sends: no field


def test_selects_show_french_labels_and_defaults_come_from_the_struct() -> None:
    duree = next(f for f in champs(SignerCer, {}) if f.name == "duree_mois")
    assert duree.options == (("6", "6"), ("9", "9"), ("12", "12"))
    issue = next(f for f in champs(EnregistrerIssueRdv, {}) if f.name == "issue")
    assert ("seen", "honoré") in issue.options
    mode = next(f for f in champs(DeciderOrientation, {}) if f.name == "mode")
    assert mode.default == "decidee"
    assert not mode.required
    motif = next(f for f in champs(LeverSanction, {"motif": "CER signé"}) if f.name == "motif")
    assert not motif.required
    assert motif.placeholder == "p. ex. CER signé"
    assert valeur("code_inconnu") == "code_inconnu"
    assert champ("date_avis") == "Date avis"


def test_a_fresh_form_opens_on_today_with_the_defaults() -> None:
    form = initial(champs(RouvrirDroit, {}), date(2026, 5, 4))
    assert form == {"soumis_droits_devoirs": "on", "effective_on": "2026-05-04"}


def test_the_body_leaves_out_empty_optional_fields_and_names_missing_ones() -> None:
    fields = champs(LeverSanction, {})
    assert body(fields, {"effective_on": "2024-06-02", "numero": "1", "motif": ""}) == (
        {"effective_on": "2024-06-02", "numero": 1},
        {},
    )
    _, errors = body(fields, {"effective_on": "2024-06-02", "numero": "un"})
    assert errors == {"numero": "Un nombre entier est attendu."}
    _, errors = body(fields, {"numero": "1"})
    assert errors == {"effective_on": REQUIRED}
    read, _ = body(champs(SignerCer, {}), {"duree_mois": "9"})
    assert read["duree_mois"] == 9
    reouverture = champs(RouvrirDroit, {})
    assert body(reouverture, {})[0]["soumis_droits_devoirs"] is False  # unchecked: not sent


def test_a_decoding_error_names_its_field() -> None:
    try:
        msgspec.convert({"effective_on": "2024-13-45"}, SignerCer, strict=False)
    except msgspec.ValidationError as e:
        field, message = decoding_error(e)
    assert field == "effective_on"
    assert message.startswith("Valeur invalide")


def test_a_list_of_text_is_one_text_area_read_one_item_a_line() -> None:
    from domain.commands import AmenderContratEngagement, SignerContratEngagement

    fields = champs(SignerContratEngagement, {"actions": ["formation CACES", "ateliers CV"]})
    by_name = {f.name: f for f in fields}
    assert (by_name["objectifs"].kind, by_name["objectifs"].liste) == ("textarea", True)
    assert by_name["objectifs"].required
    assert by_name["actions"].placeholder == "p. ex. formation CACES\nateliers CV"
    typed = {
        "effective_on": "2025-07-01",
        "date_debut": "2025-07-07",
        "duree_mois": "6",
        "objectifs": "  reprendre un emploi \r\n\r\n passer le permis\n",
        "actions": "",
        "heures_hebdo": "15",
    }
    read, errors = body(fields, typed)
    assert read["objectifs"] == ["reprendre un emploi", "passer le permis"]
    assert "actions" not in read
    assert errors == {"actions": REQUIRED}
    amend = champs(AmenderContratEngagement, {})
    read, errors = body(amend, {"effective_on": "2025-08-01", "numero": "1", "motif": "m"})
    assert errors == {}
    assert "actions" not in read  # optional and empty: left out, the contract keeps its own
    command = msgspec.convert(
        body(fields, {**typed, "actions": "atelier CV"})[0], SignerContratEngagement
    )
    assert command.actions == ["atelier CV"]
