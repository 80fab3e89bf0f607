"""The web console: what the API holds, for people to look at, at ``/console/``."""
