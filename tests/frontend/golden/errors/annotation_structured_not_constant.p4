// a structured annotation whose value is not a compile-time constant of a simple type
#include "include/before_ingress.p4"

extern Pool {
    Pool();
}

Pool() first_pool;

@origin[pool = first_pool]
const bit<8> LIMIT = 4;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
