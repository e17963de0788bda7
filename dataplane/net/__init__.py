"""Network simulation: the event engine, hosts, topologies, applications."""
