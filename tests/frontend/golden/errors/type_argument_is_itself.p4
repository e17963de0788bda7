// a generic struct given a specialization of itself as its type argument
#include "include/before_ingress.p4"

struct box_t<T> {
    T content;
}

typedef box_t<bit<8>> byte_box_t;
typedef box_t<byte_box_t> nested_box_t;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
