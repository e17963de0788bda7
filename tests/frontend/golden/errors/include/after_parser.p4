// Everything a v1model program needs after its parser.
#include "verify.p4"
#include "ingress.p4"
#include "after_ingress.p4"
