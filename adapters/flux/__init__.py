"""The CAF and MSA beneficiary flux (XML vrsb0801): validation, reading, import."""
