"""One module per capability: who may ask -> domain rules -> store. No GraphQL here."""
