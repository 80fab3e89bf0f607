"""Process wiring (DESIGN §5): the data folder, the embedded service and its server, their
configuration, logs, the URL policy, and the ``serve``/``apps`` commands."""
