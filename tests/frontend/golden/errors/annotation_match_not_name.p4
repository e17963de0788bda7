// @match whose argument is an expression, not a match kind
#include "include/before_ingress.p4"

struct pvs_key_t {
    @match(1 + 1) bit<16> port;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
