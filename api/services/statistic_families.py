"""The families of statistics a report belongs to, named apart from their computation so
that the command line offers them without loading the store."""

FAMILLES = ("table-3-1", "drees", "taux", "aave", "complementaires")
