// an extern constructor with a return type
#include "include/before_ingress.p4"

extern Tally {
    void Tally();
    void add(in bit<32> n);
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
