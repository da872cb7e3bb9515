"""Domain errors: a refused step names the rule it breaks and the field at fault."""


class DomainError(Exception):
    """A command that the path's rules refuse; nothing is recorded."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


class DossierInconnu(DomainError):
    def __init__(self) -> None:
        super().__init__("dossier_inconnu", "Aucune entrée n'est enregistrée pour ce dossier.")
