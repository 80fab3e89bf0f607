"""Event notifications to the customer's callback URLs (DESIGN §4.3, reference §4)."""
