// a struct with a field of its own type
#include "include/before_ingress.p4"

struct node_t {
    bit<8> value;
    node_t next;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
