"""Live ingest: RTMP pushes recorded by nginx's RTMP module, admitted and tracked by Mixdown."""
