"""Read-only figures for organizers and the public: a letter's overview, the daily digest, the ledger."""
