"""Authentication: passwords, bearer tokens, login throttling, the acting principal."""
