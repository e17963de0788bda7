// Everything a v1model program needs after its ingress control.
#include "egress.p4"
#include "compute.p4"
#include "deparser.p4"
#include "main.p4"
