// Everything a v1model program needs before its ingress control.
#include "v1.p4"
#include "parser.p4"
#include "verify.p4"
