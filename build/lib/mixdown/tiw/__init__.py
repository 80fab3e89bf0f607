"""TIW's types, declared once: checked at the API, read into domain values, written back."""
