"""The debtor portal (M1-M6): links in reminders, the debtor's page, reactions that start flows."""
