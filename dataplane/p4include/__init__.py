"""Architecture include files: core.p4, v1model.p4 and the protocol libraries."""
