"""The P4 compiler back end: generate Python source for a checked program."""
