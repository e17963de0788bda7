// a function parameter whose tuple type holds an extern
#include "include/before_ingress.p4"

extern Pool {
    Pool();
}

void drain(tuple<Pool, bit<8>> pools) { }

#include "include/ingress.p4"
#include "include/after_ingress.p4"
