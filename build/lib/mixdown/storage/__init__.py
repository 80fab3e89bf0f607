"""Where outputs live: attempt folders (``local``), and objects in a folder or an
S3-compatible bucket behind one interface (``objects``; DESIGN §5)."""
