"""Views of a run for people: pictures and reports (the topology picture in topology_svg.py)."""
