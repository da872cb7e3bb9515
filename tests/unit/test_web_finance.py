"""How the finance screen words a schedule's rates and the facts left unpriced."""

from adapters.schedule_files import shipped
from api.web.finance import tarifs_text, unpriced
from domain.vocabulary import TypeOrganisme
from projections.pricing import StructureNonDeclaree


def test_a_schedule_s_rates_in_one_line_of_euros() -> None:
    vdm = shipped()["val-de-marne-2022"].tarifs[TypeOrganisme.CCAS]
    assert tarifs_text(vdm) == (
        "CER 400,00\u00a0€; 1er entretien dans le délai +50,00\u00a0€; "
        "sortie positive +100,00\u00a0€; plafond de 550,00\u00a0€ par contrat; "
        "ASC (dès 1 : 150,00\u00a0€, dès 5 : 400,00\u00a0€)"
    )
    aave = shipped()["seine-et-marne-aave-2022"].tarifs[TypeOrganisme.AAVE]
    assert tarifs_text(aave) == (
        "55\u00a0000,00\u00a0€ par ETP; +10\u00a0% si les valeurs de référence sont atteintes; "
        "plafond de 60\u00a0500,00\u00a0€ par ETP"
    )


def test_the_facts_left_unpriced_are_counted_in_words() -> None:
    one = StructureNonDeclaree(structure_id="x", contrats=0, entretiens_asc=1, eio=0, faits=1)
    assert unpriced(one) == "1 fait non payé (1 entretien ASC)"
    many = StructureNonDeclaree(structure_id="x", contrats=2, entretiens_asc=3, eio=1, faits=6)
    assert unpriced(many) == "6 faits non payés (2 CER, 3 entretiens ASC, 1 EIO)"
