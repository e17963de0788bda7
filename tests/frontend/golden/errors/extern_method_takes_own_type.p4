// an extern method with a parameter of the extern's own type
#include "include/before_ingress.p4"

extern Pool {
    Pool();
    void merge(Pool other);
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
