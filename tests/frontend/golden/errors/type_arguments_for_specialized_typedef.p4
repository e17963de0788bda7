// type arguments given to a typedef that names an already specialized extern
#include "include/before_ingress.p4"

typedef register<bit<16>> reg16_t;

control Counting() {
    reg16_t<bit<16>>(4) counts;
    apply { }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
