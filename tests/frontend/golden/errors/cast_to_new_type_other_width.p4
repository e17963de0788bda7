// a cast to a 'type' from a bit<W> of another width than its representation
#include "include/before_ingress.p4"

type bit<4> nibble_t;

nibble_t low_nibble(in bit<8> b) {
    return (nibble_t)b;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
