// a constant whose generic struct type, specialized with _, holds a tuple of _
#include "include/before_ingress.p4"

struct pair_t<T> {
    tuple<T, T> both;
}

const pair_t<_> ZERO = { both = { 0, 0 } };

#include "include/ingress.p4"
#include "include/after_ingress.p4"
