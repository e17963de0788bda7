// a generic header_union with a tuple field, which no type argument makes a header
#include "include/before_ingress.p4"

header_union either_t<T> {
    tuple<T, T> both;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
