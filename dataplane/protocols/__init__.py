"""Internet protocols: the header library (inet.p4) as codecs, checksums, packet building and dissection."""
